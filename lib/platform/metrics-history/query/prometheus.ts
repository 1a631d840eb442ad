// MetricsSource over Prometheus' HTTP API (/api/v1/query_range, /api/v1/query). Point t of the
// grid covers [t, t + step): it is Prometheus' evaluation at t + step over a window of
// max(step, 4 scrape intervals) — equal to the step when scrapes are frequent enough, so that the
// windows tile the range like the PostgreSQL buckets do. The newest step, still filling when the
// range ends before it does, is one instant evaluation at the range's end over the part elapsed. Per-instance series carry the registry's
// instance id by joining agenticorp_instance_info on the target (Prometheus names targets
// host:port). Percentiles are histogram_quantile over buckets summed by `le` across instances.
import { GATEWAY_ENDPOINTS } from "../../metrics/gateway";
import { BASE_STEP_SECONDS, pointTime, planGrid, points, type Grid } from "./grid";
import { LATENCY_BOUNDS } from "../layout";
import { histogramQuantile } from "./histogram";
import { readRegisteredInstances, withVitals, type InstanceVitals } from "./instances";
import { servedRequests } from "./postgres";
import type { Queryable } from "../sql";
import type { InstanceHealth, MetricsSource, Peak, Series, Span, TimeRange, Totals } from "./types";

export interface PrometheusSourceOptions {
  /** Base URL, e.g. http://prometheus:9090 */
  url: string;
  /** Scrape interval of the agenticorp job, in seconds: rate windows span at least four. */
  scrapeIntervalSeconds: number;
  /** The registry (instance identity and status) lives in PostgreSQL. */
  db: Queryable;
  timeoutMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

class PrometheusQueryError extends Error {
  override name = "PrometheusQueryError";
}

interface MatrixResult {
  metric: Record<string, string>;
  values: Array<[number, string]>;
}
interface VectorResult {
  metric: Record<string, string>;
  value: [number, string];
}
interface ApiResponse<T> {
  status: "success" | "error";
  data?: { resultType: string; result: T[] };
  errorType?: string;
  error?: string;
}

/** Joins a per-target expression to the instance id and sums it per instance. */
const perInstance = (expression: string) =>
  `sum by (instance_id) ((${expression}) * on (instance, job) group_left (instance_id) agenticorp_instance_info)`;
/** Instances with no such series yet report 0 rather than vanish (PostgreSQL rows exist for them). */
const orZeroPerInstance = (expression: string) =>
  `(${perInstance(expression)}) or sum by (instance_id) (agenticorp_instance_info * 0)`;

const quantile = (q: number, histogram: string, window: string) =>
  `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket[${window}])))`;

/** The PromQL of each query function, given its rate window. */
const promql = {
  requestRate: (w: string) => `sum(rate(agenticorp_gateway_requests_total[${w}]))`,
  requestRateByEndpoint: (w: string) => `sum by (endpoint) (rate(agenticorp_gateway_requests_total[${w}]))`,
  requestRateByInstance: (w: string) => orZeroPerInstance(`rate(agenticorp_gateway_requests_total[${w}])`),
  latency: (q: number, w: string) => quantile(q, "agenticorp_gateway_request_duration_seconds", w),
  errorRate: (w: string, statusClass: "4" | "5" = "5") =>
    `(sum(rate(agenticorp_gateway_requests_total{status=~"${statusClass}.."}[${w}])) or vector(0)) / sum(rate(agenticorp_gateway_requests_total[${w}]))`,
  // No series before the first failure of any kind: a gap, which never breaches an "above" rule.
  upstreamAuthRejections: (w: string) =>
    `sum(increase(agenticorp_upstream_attempt_failures_total{reason="auth_rejected"}[${w}]))`,
  cacheHitRate: (w: string) =>
    `(sum(rate(agenticorp_cache_requests_total{result="hit"}[${w}])) or vector(0)) / sum(rate(agenticorp_gateway_requests_total[${w}]))`,
  cacheableHitRate: (w: string) =>
    `sum(rate(agenticorp_cache_requests_total{result="hit"}[${w}])) / sum(rate(agenticorp_cache_requests_total{result=~"hit|miss"}[${w}]))`,
  // Counts over a span, and the peak of the finest rate there is (one rate window wide).
  requestsBy: (w: string, label: "status" | "result") =>
    label === "status"
      ? `sum by (status) (increase(agenticorp_gateway_requests_total[${w}]))`
      : `sum by (result) (increase(agenticorp_cache_requests_total[${w}]))`,
  latencyBuckets: (w: string) => `sum by (le) (increase(agenticorp_gateway_request_duration_seconds_bucket[${w}]))`,
  peakRate: (w: string, span: string) => `max_over_time(sum(rate(agenticorp_gateway_requests_total[${w}]))[${span}:${w}])`,
  cacheServed: (w: string) => `sum(rate(agenticorp_cache_requests_total{result="hit"}[${w}]))`,
  inFlight: (w: string) => perInstance(`avg_over_time(agenticorp_http_requests_in_flight[${w}])`),
  activeConnections: (w: string) => perInstance(`avg_over_time(agenticorp_http_connections_open[${w}])`),
  dbQueryP95: (w: string) => quantile(0.95, "agenticorp_db_query_duration_seconds", w),
  dbPoolInUse: (w: string) => `sum(avg_over_time(agenticorp_db_pool_connections{state="in_use"}[${w}]))`,
  dbPoolWaiting: (w: string) => `sum(avg_over_time(agenticorp_db_pool_waiting_requests[${w}]))`,
  dbPoolTotal: (w: string) => `sum(avg_over_time(agenticorp_db_pool_connections[${w}]))`,
  cpu: (w: string) => `100 * ${perInstance(`rate(process_cpu_seconds_total[${w}])`)}`,
  memory: (w: string) => perInstance(`avg_over_time(process_resident_memory_bytes[${w}])`),
  memoryUtilisation: (w: string) =>
    `100 * ${perInstance(`avg_over_time(process_resident_memory_bytes[${w}]) / on (instance, job) agenticorp_process_memory_limit_bytes`)}`,
  // Instant values for the instance list.
  rssNow: () => perInstance(`process_resident_memory_bytes`),
  inFlightNow: () => perInstance(`agenticorp_http_requests_in_flight`),
} as const;

export class PrometheusMetricsSource implements MetricsSource {
  readonly kind = "prometheus" as const;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: PrometheusSourceOptions) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** The rate window for a step: the step itself, unless fewer than four scrapes would fall in it. */
  window(stepSeconds: number): string {
    return `${Math.max(stepSeconds, 4 * this.options.scrapeIntervalSeconds)}s`;
  }

  async requestRate(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, { total: promql.requestRate });
  }

  async requestRateByEndpoint(range: TimeRange): Promise<Series[]> {
    const grid = planGrid(range);
    const results = await this.evaluate(promql.requestRateByEndpoint, grid, range);
    return GATEWAY_ENDPOINTS.map((endpoint) => ({
      name: endpoint,
      labels: { endpoint },
      points: toPoints(
        grid,
        results.find((r) => r.metric.endpoint === endpoint),
      ),
    })).filter(servedRequests);
  }

  async requestRateByInstance(range: TimeRange): Promise<Series[]> {
    return this.byInstance(range, promql.requestRateByInstance);
  }

  async latencyPercentiles(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, {
      p50: (w) => promql.latency(0.5, w),
      p95: (w) => promql.latency(0.95, w),
      p99: (w) => promql.latency(0.99, w),
    });
  }

  async errorRate(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, { "5xx": (w) => promql.errorRate(w, "5"), "4xx": (w) => promql.errorRate(w, "4") });
  }

  async upstreamAuthRejections(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, { total: promql.upstreamAuthRejections });
  }

  async cacheHitRate(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, {
      hit_rate: promql.cacheHitRate,
      cacheable_hit_rate: promql.cacheableHitRate,
      served_per_second: promql.cacheServed,
    });
  }

  async totals(range: Span): Promise<Totals> {
    const at = range.end.getTime() / 1000;
    const window = `${Math.round(at - range.start.getTime() / 1000)}s`;
    const [byStatus, byResult, buckets] = await Promise.all([
      this.instant(promql.requestsBy(window, "status"), at),
      this.instant(promql.requestsBy(window, "result"), at),
      this.instant(promql.latencyBuckets(window), at),
    ]);
    // increase() extrapolates to the window's edges; whole requests are what happened.
    const count = (results: VectorResult[], match: (labels: Record<string, string>) => boolean) =>
      Math.round(results.filter((r) => match(r.metric)).reduce((sum, r) => sum + (toNumber(r.value[1]) ?? 0), 0));
    return {
      requests: count(byStatus, () => true),
      requests4xx: count(byStatus, (l) => l.status?.startsWith("4") ?? false),
      requests5xx: count(byStatus, (l) => l.status?.startsWith("5") ?? false),
      cacheHits: count(byResult, (l) => l.result === "hit"),
      cacheMisses: count(byResult, (l) => l.result === "miss"),
      cacheBypass: count(byResult, (l) => l.result === "bypass"),
      latencyP95Seconds: histogramQuantile(0.95, LATENCY_BOUNDS, perBucket(buckets)),
    };
  }

  async peakRequestRate(range: Span): Promise<Peak> {
    const at = range.end.getTime() / 1000;
    const resolutionSeconds = 4 * this.options.scrapeIntervalSeconds;
    const span = `${Math.round(at - range.start.getTime() / 1000)}s`;
    const [result] = await this.instant(promql.peakRate(`${resolutionSeconds}s`, span), at);
    return { perSecond: result ? toNumber(result.value[1]) : null, resolutionSeconds, at: null };
  }

  async inFlight(range: TimeRange): Promise<Series[]> {
    return this.byInstance(range, promql.inFlight);
  }

  async activeConnections(range: TimeRange): Promise<Series[]> {
    return this.byInstance(range, promql.activeConnections);
  }

  async databasePerformance(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, {
      query_p95_seconds: promql.dbQueryP95,
      pool_in_use: promql.dbPoolInUse,
      pool_waiting: promql.dbPoolWaiting,
      pool_total: promql.dbPoolTotal,
    });
  }

  async cpuUtilisation(range: TimeRange): Promise<Series[]> {
    return this.byInstance(range, promql.cpu);
  }

  async memoryBytes(range: TimeRange): Promise<Series[]> {
    return this.byInstance(range, promql.memory);
  }

  async memoryUtilisation(range: TimeRange): Promise<Series[]> {
    return this.byInstance(range, promql.memoryUtilisation);
  }

  async instanceHealth(): Promise<InstanceHealth[]> {
    const window = this.window(60);
    const [registered, cpu, rss, rps, inFlight] = await Promise.all([
      readRegisteredInstances(this.options.db),
      this.instant(promql.cpu(window)),
      this.instant(promql.rssNow()),
      this.instant(promql.requestRateByInstance(window)),
      this.instant(promql.inFlightNow()),
    ]);
    const vitals = new Map<string, Partial<InstanceVitals>>();
    const put = (results: VectorResult[], field: keyof InstanceVitals) => {
      for (const r of results) {
        const id = r.metric.instance_id;
        if (id) vitals.set(id, { ...vitals.get(id), [field]: toNumber(r.value[1]) });
      }
    };
    put(cpu, "cpuPercent");
    put(rss, "rssBytes");
    put(rps, "requestsPerSecond");
    put(inFlight, "inFlight");
    return withVitals(registered, vitals);
  }

  private async fleet(range: TimeRange, queries: Record<string, (window: string) => string>): Promise<Series[]> {
    const grid = planGrid(range);
    return Promise.all(
      Object.entries(queries).map(async ([name, query]) => {
        const [result] = await this.evaluate(query, grid, range);
        return { name, points: toPoints(grid, result) };
      }),
    );
  }

  private async byInstance(range: TimeRange, query: (window: string) => string): Promise<Series[]> {
    const grid = planGrid(range);
    const results = await this.evaluate(query, grid, range);
    return results
      .filter((r) => r.metric.instance_id)
      .sort((a, b) => a.metric.instance_id!.localeCompare(b.metric.instance_id!))
      .map((r) => ({ name: r.metric.instance_id!, labels: { instance_id: r.metric.instance_id! }, points: toPoints(grid, r) }));
  }

  /**
   * The grid's whole steps in one range query; a newest step the range ends inside is evaluated
   * at the range's end over the part of it elapsed, and reported at its step's usual time.
   */
  private async evaluate(query: (window: string) => string, grid: Grid, range: TimeRange): Promise<MatrixResult[]> {
    const step = grid.stepSeconds;
    const endS = range.end.getTime() / 1000;
    const lastS = pointTime(grid, grid.count - 1) / 1000;
    const partial = lastS + step > endS;
    const whole = partial ? grid.count - 1 : grid.count;
    const [results, newest] = await Promise.all([
      whole > 0 ? this.rangeQuery(query(this.window(step)), grid, whole) : Promise.resolve([]),
      partial
        ? this.instant(query(this.window(Math.max(BASE_STEP_SECONDS, Math.round(endS - lastS)))), endS)
        : Promise.resolve([]),
    ]);
    for (const sample of newest) {
      const key = labelKey(sample.metric);
      const value: [number, string] = [lastS + step, sample.value[1]];
      const series = results.find((r) => labelKey(r.metric) === key);
      if (series) series.values.push(value);
      else results.push({ metric: sample.metric, values: [value] });
    }
    return results;
  }

  private async rangeQuery(query: string, grid: Grid, count = grid.count): Promise<MatrixResult[]> {
    const step = grid.stepSeconds;
    const first = pointTime(grid, 0) / 1000 + step;
    return this.call<MatrixResult>("/api/v1/query_range", {
      query,
      start: String(first),
      end: String(first + (count - 1) * step),
      step: String(step),
    });
  }

  private async instant(query: string, atSeconds = this.now() / 1000): Promise<VectorResult[]> {
    return this.call<VectorResult>("/api/v1/query", { query, time: String(atSeconds) });
  }

  private async call<T>(path: string, form: Record<string, string>): Promise<T[]> {
    const url = new URL(path, this.options.url);
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new PrometheusQueryError(`Prometheus at ${url.origin} did not answer: ${(error as Error).message}`, { cause: error });
    }
    const body = (await response.json().catch(() => null)) as ApiResponse<T> | null;
    if (!response.ok || body?.status !== "success" || !body.data) {
      throw new PrometheusQueryError(`Prometheus query failed (HTTP ${response.status}): ${body?.error ?? "no usable answer"}`);
    }
    return body.data.result;
  }
}

function toNumber(text: string): number | null {
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** Prometheus' evaluation at t + step becomes the point at t; missing evaluations are gaps. */
function toPoints(grid: Grid, result: MatrixResult | undefined) {
  const byIndex = new Map<number, number | null>();
  for (const [time, text] of result?.values ?? []) {
    const index = Math.round((time * 1000 - grid.startMs) / (grid.stepSeconds * 1000)) - 1;
    byIndex.set(index, toNumber(text));
  }
  return points(grid, (i) => byIndex.get(i));
}

const labelKey = (labels: Record<string, string>) =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

/** Cumulative `le` buckets (Prometheus' shape) as per-bucket counts in LATENCY_BOUNDS order, +Inf last. */
function perBucket(results: VectorResult[]): number[] {
  const cumulative = new Map(
    results.map((r) => [r.metric.le === "+Inf" ? Infinity : Number(r.metric.le), toNumber(r.value[1]) ?? 0]),
  );
  const bounds = [...LATENCY_BOUNDS, Infinity];
  return bounds.map((bound, i) =>
    Math.max(0, (cumulative.get(bound) ?? 0) - (i === 0 ? 0 : (cumulative.get(bounds[i - 1]!) ?? 0))),
  );
}
