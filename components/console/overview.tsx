"use client";
// The fleet overview: traffic, latency, errors, cache, database, instance health and firing
// alerts over a chosen range, refreshed live.
import { useId, useState } from "react";
import {
  RANGES,
  type OverviewResponse,
  type Panel as PanelData,
  type RangeKey,
  type SeriesDto,
} from "@/lib/control-plane/console/contracts";
import { formatNumber, formatRate, toChartData } from "@/lib/control-plane/console/charts";
import { summaryTiles } from "@/lib/control-plane/console/tiles";
import { formatUsd } from "@/lib/control-plane/usage/charts";
import { queueTileText } from "@/lib/control-plane/console/batch-views";
import { DEFAULT_RANGE, RANGE_SPECS } from "@/lib/control-plane/console/ranges";
import { useOverview } from "@/components/console/hooks/console";
import { Panel, Stat } from "./panel";
import { TimeSeriesChart } from "./charts";

function seriesOf(panel: PanelData | undefined): SeriesDto[] | undefined {
  return panel && "series" in panel ? panel.series : undefined;
}
function errorOf(panel: PanelData | undefined): string | null {
  return panel && "error" in panel ? panel.error : null;
}

function RangeSelector({ value, onChange }: { value: RangeKey; onChange: (range: RangeKey) => void }) {
  const id = useId();
  return (
    <div className="range-selector">
      <label htmlFor={id}>Time range</label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value as RangeKey)}>
        {RANGES.map((range) => (
          <option key={range} value={range}>
            Last {RANGE_SPECS[range].label}
          </option>
        ))}
      </select>
    </div>
  );
}

interface ChartPanelProps {
  title: string;
  data: OverviewResponse | undefined;
  panel: PanelData | undefined;
  loading: boolean;
  error: Error | null;
  scale?: number;
  order?: string[];
  format: (value: number) => string;
  testId: string;
  only?: string[];
  /** Display names for series (legend and tooltip). */
  labels?: Record<string, string>;
}

function ChartPanel({ title, data, panel, loading, error, scale = 1, order, format, testId, only, labels }: ChartPanelProps) {
  const series = seriesOf(panel);
  const chosen = series && only ? series.filter((s) => only.includes(s.name)) : series;
  const prepared = chosen ? toChartData(chosen, scale, order) : undefined;
  const chart =
    prepared && labels ? { ...prepared, keys: prepared.keys.map((k) => ({ ...k, name: labels[k.name] ?? k.name })) } : prepared;
  return (
    <Panel
      title={title}
      testId={testId}
      loading={loading && !data}
      error={errorOf(panel) ?? error}
      empty={!!chart && !chart.hasData}
      emptyText="No data in this range yet."
    >
      {chart && data ? (
        <TimeSeriesChart
          data={chart}
          domain={[data.start, data.end]}
          format={format}
          rangeSeconds={RANGE_SPECS[data.range].seconds}
          label={title}
        />
      ) : null}
    </Panel>
  );
}

const ms = (v: number) => `${formatNumber(v)} ms`;
const pct = (v: number) => `${formatNumber(v, 2)}%`;
const perSecond = (v: number) => formatRate(v);
const count = (v: number) => formatNumber(v);
const usd = (v: number) => formatUsd(v);

/** `range`: the one in the page's URL (?range=), which the selector keeps up to date. */
export function OverviewView({
  initial,
  range: initialRange,
}: {
  initial?: { data: OverviewResponse; at: number };
  range?: RangeKey;
}) {
  const [range, setRange] = useState<RangeKey>(initialRange ?? initial?.data.range ?? DEFAULT_RANGE);
  const chooseRange = (next: RangeKey) => {
    setRange(next);
    // Shallow: Next keeps its router in step with the native history API, and the data comes
    // from the range's own query, so the page is not rendered again on the server.
    const url = new URL(window.location.href);
    url.searchParams.set("range", next);
    window.history.replaceState(null, "", url);
  };
  const query = useOverview(range, initial);
  const data = query.data;
  const loading = query.isPending;
  const error = query.error;

  const summary = data && !("error" in data.summary) ? data.summary : undefined;
  const tiles = data && summary ? summaryTiles(summary, data.range) : undefined;
  const instances = data && "instances" in data.instances ? data.instances.instances : undefined;
  const firing = data && "firing" in data.alerts ? data.alerts.firing : undefined;

  return (
    <div className="page">
      <div className="page-header">
        <h1>Overview</h1>
        <div className="page-tools">
          <RangeSelector value={range} onChange={chooseRange} />
          <span className="badge" data-testid="data-source">
            Data source: {data ? (data.source === "prometheus" ? "Prometheus" : "built-in (PostgreSQL)") : "…"}
          </span>
          <span className={`live ${query.isFetching ? "live-fetching" : ""}`} aria-live="off">
            {query.dataUpdatedAt ? `Live · updated ${new Date(query.dataUpdatedAt).toLocaleTimeString()}` : "Live"}
          </span>
        </div>
      </div>
      {error && !data ? (
        <p className="state state-error" role="alert">
          {error.message}
        </p>
      ) : null}

      <div className="stats" aria-label="Summary">
        {tiles ? (
          tiles.map((tile) => <Stat key={tile.testId} label={tile.label} value={tile.value} testId={tile.testId} />)
        ) : (
          <Stat label="Requests" value={data && "error" in data.summary ? "unavailable" : "—"} testId="stat-requests" />
        )}
        <Stat
          label="Healthy instances"
          value={instances ? `${instances.filter((i) => i.status === "healthy").length} / ${instances.length}` : "—"}
          testId="stat-instances"
        />
        <Stat label="Firing alerts" value={firing ? String(firing.length) : "—"} testId="stat-alerts" />
        <Stat label="Queued batch jobs (now)" value={queueTileText(data?.batchQueue)} testId="stat-batch-queued" />
      </div>

      <div className="grid">
        <ChartPanel
          title="Requests per second"
          testId="chart-rps"
          data={data}
          panel={data?.requestRate}
          labels={{ total: "all instances" }}
          loading={loading}
          error={error}
          format={perSecond}
        />
        <ChartPanel
          title="Requests per second by endpoint"
          testId="chart-rps-endpoint"
          data={data}
          panel={data?.requestRateByEndpoint}
          loading={loading}
          error={error}
          format={perSecond}
        />
        <ChartPanel
          title="Requests per second by instance"
          testId="chart-rps-instance"
          data={data}
          panel={data?.requestRateByInstance}
          loading={loading}
          error={error}
          format={perSecond}
        />
        <ChartPanel
          title="Latency (p50, p95, p99)"
          testId="chart-latency"
          data={data}
          panel={data?.latency}
          loading={loading}
          error={error}
          scale={1_000}
          order={["p50", "p95", "p99"]}
          format={ms}
        />
        <ChartPanel
          title="Error rate"
          testId="chart-errors"
          data={data}
          panel={data?.errorRate}
          order={["5xx", "4xx"]}
          labels={{ "5xx": "5xx share", "4xx": "4xx share" }}
          loading={loading}
          error={error}
          scale={100}
          format={pct}
        />
        <ChartPanel
          title="Cache hit rate"
          testId="chart-cache"
          data={data}
          panel={data?.cache}
          only={["hit_rate", "cacheable_hit_rate"]}
          order={["hit_rate", "cacheable_hit_rate"]}
          labels={{ hit_rate: "served from cache, of all requests", cacheable_hit_rate: "hits, of cacheable requests" }}
          loading={loading}
          error={error}
          scale={100}
          format={pct}
        />
        <ChartPanel
          title="Served from cache"
          testId="chart-cache-served"
          data={data}
          panel={data?.cache}
          only={["served_per_second"]}
          labels={{ served_per_second: "served from cache" }}
          loading={loading}
          error={error}
          format={perSecond}
        />
        <ChartPanel
          title="Spend per hour"
          testId="chart-spend-per-hour"
          data={data}
          panel={data?.usage}
          only={["spend_per_hour"]}
          labels={{ spend_per_hour: "USD per hour" }}
          loading={loading}
          error={error}
          format={usd}
        />
        <ChartPanel
          title="Tokens per second"
          testId="chart-tokens-per-second"
          data={data}
          panel={data?.usage}
          only={["tokens_per_second"]}
          labels={{ tokens_per_second: "tokens per second" }}
          loading={loading}
          error={error}
          format={perSecond}
        />
        <ChartPanel
          title="Database query latency (p95)"
          testId="chart-db-latency"
          data={data}
          panel={data?.database}
          only={["query_p95_seconds"]}
          labels={{ query_p95_seconds: "query p95" }}
          loading={loading}
          error={error}
          scale={1_000}
          format={ms}
        />
        <ChartPanel
          title="Database connections"
          testId="chart-db-pool"
          data={data}
          panel={data?.database}
          only={["pool_in_use", "pool_waiting", "pool_total"]}
          order={["pool_in_use", "pool_waiting", "pool_total"]}
          labels={{ pool_in_use: "in use", pool_waiting: "waiting", pool_total: "open" }}
          loading={loading}
          error={error}
          format={count}
        />
      </div>

      <div className="grid">
        <Panel
          title="Instance health"
          testId="panel-instance-health"
          loading={loading && !data}
          error={data && "error" in data.instances ? data.instances.error : error}
          empty={!!instances && instances.length === 0}
          emptyText="No instance has registered."
        >
          {instances ? (
            <>
              <p className="health-summary">
                {(["healthy", "draining", "dead"] as const).map((status) => (
                  <span key={status} className={`pill status-${status}`}>
                    {instances.filter((i) => i.status === status).length} {status}
                  </span>
                ))}
              </p>
              <ul className="plain-list">
                {instances.map((instance) => (
                  <li key={instance.id}>
                    <span className={`dot status-${instance.status}`} aria-hidden="true" /> {instance.id}{" "}
                    <span className="muted">
                      ({instance.status}, v{instance.version})
                    </span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </Panel>
        <Panel
          title="Firing alerts"
          testId="panel-firing-alerts"
          loading={loading && !data}
          error={data && "error" in data.alerts ? data.alerts.error : error}
          empty={!!firing && firing.length === 0}
          emptyText="Nothing is firing."
        >
          {firing ? (
            <ul className="plain-list">
              {firing.map((alert) => (
                <li key={alert.id}>
                  <strong>{alert.name}</strong> <span className={`pill severity-${alert.severity}`}>{alert.severity}</span>{" "}
                  <span className="muted">{alert.subject}</span>
                  {alert.since ? <span className="muted"> · since {new Date(alert.since).toLocaleTimeString()}</span> : null}
                  {alert.value !== null ? <span className="muted"> · value {formatNumber(alert.value, 2)}</span> : null}
                  {alert.acknowledgedBy ? <span className="muted"> · acknowledged by {alert.acknowledgedBy}</span> : null}
                  <div className="muted small">{alert.summary}</div>
                </li>
              ))}
            </ul>
          ) : null}
        </Panel>
      </div>
    </div>
  );
}
