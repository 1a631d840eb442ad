// The overview and instances endpoints: named queries on the metrics source (Prometheus or the
// built-in rollups), each panel on its own so that one failing query leaves the others standing.
import "server-only";
import type { InstanceHealth, MetricsSource, Series, Span } from "../../platform/metrics-history/query/types";
import type { PrismaClient } from "../../platform/db/generated/client";
import type { InstanceHealthDto, OverviewResponse, Panel, RangeKey, SeriesDto, WindowTotals } from "./contracts";
import { overviewQuery } from "./contracts";
import { consoleHandler } from "./handler";
import { readQueueStats } from "../../data-plane/batch/queue-stats";
import { getDatabase } from "../../platform/db/client";
import { consoleMetricsSource } from "./metrics-source";
import { firingAlerts } from "./alerts";
import { spendAndTokenRates } from "../usage/queries";
import { RECENT_LATENCY_SECONDS, RECENT_RATE_SECONDS, recentWindow, timeWindowFor } from "./ranges";

function toSeriesDto(series: Series): SeriesDto {
  return {
    name: series.name,
    ...(series.labels ? { labels: series.labels } : {}),
    points: series.points.map((p) => ({ t: p.t, v: p.v })),
  };
}

function toInstanceDto(instance: InstanceHealth): InstanceHealthDto {
  return {
    ...instance,
    startedAt: new Date(instance.startedAt).toISOString(),
    lastSeenAt: new Date(instance.lastSeenAt).toISOString(),
  };
}

function reason(error: unknown): string {
  const message = (error as Error)?.message ?? String(error);
  console.error(JSON.stringify({ level: 40, time: Date.now(), msg: "console metrics query failed", err: message }));
  return `Could not read this metric: ${message}`;
}

async function panel(work: Promise<Series[]>): Promise<Panel> {
  try {
    return { series: (await work).map(toSeriesDto) };
  } catch (error) {
    return { error: reason(error) };
  }
}

async function totalsOver(source: MetricsSource, span: Span): Promise<WindowTotals> {
  return { start: span.start.getTime(), end: span.end.getTime(), ...(await source.totals(span)) };
}

/** The tiles' numbers: the range's exact counts, and the short windows every range shares. */
async function summary(source: MetricsSource, window: Span): Promise<OverviewResponse["summary"]> {
  try {
    const [range, recentRate, recentLatency, peak] = await Promise.all([
      totalsOver(source, window),
      totalsOver(source, recentWindow(window.end, RECENT_RATE_SECONDS)),
      totalsOver(source, recentWindow(window.end, RECENT_LATENCY_SECONDS)),
      source.peakRequestRate(window),
    ]);
    return { range, recentRate, recentLatency, peak };
  } catch (error) {
    return { error: reason(error) };
  }
}

async function instancesPanel(source: MetricsSource) {
  try {
    return { instances: (await source.instanceHealth()).map(toInstanceDto) };
  } catch (error) {
    return { error: reason(error) };
  }
}

/** Every overview panel for the range; also rendered into the page on first load (no waterfall). */
export async function loadOverview(prisma: PrismaClient, range: RangeKey): Promise<OverviewResponse> {
  const source = await consoleMetricsSource();
  const window = timeWindowFor(range, Date.now());
  const [
    totals,
    requestRate,
    requestRateByEndpoint,
    requestRateByInstance,
    latency,
    errorRate,
    cache,
    database,
    usage,
    instances,
    alerts,
    batchQueue,
  ] = await Promise.all([
    summary(source, window),
    panel(source.requestRate(window)),
    panel(source.requestRateByEndpoint(window)),
    panel(source.requestRateByInstance(window)),
    panel(source.latencyPercentiles(window)),
    panel(source.errorRate(window)),
    panel(source.cacheHitRate(window)),
    panel(source.databasePerformance(window)),
    panel(spendAndTokenRates(getDatabase().pool, window.start, window.end, window.stepSeconds)),
    instancesPanel(source),
    firingAlerts(prisma).catch((error: unknown) => ({ error: reason(error) })),
    readQueueStats(getDatabase().pool).catch((error: unknown) => ({ error: reason(error) })),
  ]);
  return {
    source: source.kind,
    range,
    start: window.start.getTime(),
    end: window.end.getTime(),
    stepSeconds: window.stepSeconds,
    summary: totals,
    requestRate,
    requestRateByEndpoint,
    requestRateByInstance,
    latency,
    errorRate,
    cache,
    database,
    usage,
    instances,
    alerts,
    batchQueue,
  };
}

// GET /api/console/overview?range=15m|1h|6h|24h|7d — every overview panel for the range.
export const getOverview = consoleHandler({ scope: "metrics.read", query: overviewQuery }, ({ query, prisma }) =>
  loadOverview(prisma, query.range),
);

// GET /api/console/instances — the registry's view of every instance, with 15-minute sparklines.
export const getInstances = consoleHandler({ scope: "fleet.read" }, async () => {
  const source = await consoleMetricsSource();
  const window = timeWindowFor("15m", Date.now());
  const [instances, requestRate, cpu] = await Promise.all([
    source.instanceHealth(),
    panel(source.requestRateByInstance(window)),
    panel(source.cpuUtilisation(window)),
  ]);
  return {
    source: source.kind,
    start: window.start.getTime(),
    end: window.end.getTime(),
    stepSeconds: window.stepSeconds,
    instances: instances.map(toInstanceDto),
    requestRate,
    cpu,
  };
});
