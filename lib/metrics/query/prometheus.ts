// MetricsSource over Prometheus' HTTP API (/api/v1/query_range, /api/v1/query). Point t of the
// grid covers [t, t + step): it is Prometheus' evaluation at t + step over a window of
// max(step, 4 scrape intervals) — equal to the step when scrapes are frequent enough, so that the
// windows tile the range like the PostgreSQL buckets do. Per-instance series carry the registry's
// instance id by joining agenticorp_instance_info on the target (Prometheus names targets
// host:port). Percentiles are histogram_quantile over buckets summed by `le` across instances.
import { GATEWAY_ENDPOINTS } from "../gateway";
import { pointTime, planGrid, points, type Grid } from "./grid";
import { readRegisteredInstances, withVitals, type InstanceVitals } from "./instances";
import { servedRequests } from "./postgres";
import type { Queryable } from "../../observability/sql";
import type { InstanceHealth, MetricsSource, Series, TimeRange } from "./types";

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

export class PrometheusQueryError extends Error {
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
const orZeroPerInstance = (expression: string) => `(${perInstance(expression)}) or sum by (instance_id) (agenticorp_instance_info * 0)`;

const quantile = (q: number, histogram: string, window: string) => `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket[${window}])))`;

/** The PromQL of each query function, given its rate window. */
export const promql = {
  requestRate: (w: string) => `sum(rate(agenticorp_gateway_requests_total[${w}]))`,
  requestRateByEndpoint: (w: string) => `sum by (endpoint) (rate(agenticorp_gateway_requests_total[${w}]))`,
  requestRateByInstance: (w: string) => orZeroPerInstance(`rate(agenticorp_gateway_requests_total[${w}])`),
  latency: (q: number, w: string) => quantile(q, "agenticorp_gateway_request_duration_seconds", w),
  errorRate: (w: string) =>
    `(sum(rate(agenticorp_gateway_requests_total{status=~"5.."}[${w}])) or vector(0)) / sum(rate(agenticorp_gateway_requests_total[${w}]))`,
  // No series before the first failure of any kind: a gap, which never breaches an "above" rule.
  upstreamAuthRejections: (w: string) => `sum(increase(agenticorp_upstream_attempt_failures_total{reason="auth_rejected"}[${w}]))`,
  cacheHitRate: (w: string) =>
    `sum(rate(agenticorp_cache_requests_total{result="hit"}[${w}])) / sum(rate(agenticorp_cache_requests_total{result=~"hit|miss"}[${w}]))`,
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
    const results = await this.rangeQuery(promql.requestRateByEndpoint(this.window(grid.stepSeconds)), grid);
    return GATEWAY_ENDPOINTS.map((endpoint) => ({
      name: endpoint,
      labels: { endpoint },
      points: toPoints(grid, results.find((r) => r.metric.endpoint === endpoint)),
    })).filter(servedRequests);
  }

  async requestRateByInstance(range: TimeRange): Promise<Series[]> {
    return this.byInstance(range, promql.requestRateByInstance);
  }

  async latencyPercentiles(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, { p50: (w) => promql.latency(0.5, w), p95: (w) => promql.latency(0.95, w), p99: (w) => promql.latency(0.99, w) });
  }

  async errorRate(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, { total: promql.errorRate });
  }

  async upstreamAuthRejections(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, { total: promql.upstreamAuthRejections });
  }

  async cacheHitRate(range: TimeRange): Promise<Series[]> {
    return this.fleet(range, { hit_rate: promql.cacheHitRate, served_per_second: promql.cacheServed });
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
    const window = this.window(grid.stepSeconds);
    return Promise.all(
      Object.entries(queries).map(async ([name, query]) => {
        const [result] = await this.rangeQuery(query(window), grid);
        return { name, points: toPoints(grid, result) };
      }),
    );
  }

  private async byInstance(range: TimeRange, query: (window: string) => string): Promise<Series[]> {
    const grid = planGrid(range);
    const results = await this.rangeQuery(query(this.window(grid.stepSeconds)), grid);
    return results
      .filter((r) => r.metric.instance_id)
      .sort((a, b) => a.metric.instance_id!.localeCompare(b.metric.instance_id!))
      .map((r) => ({ name: r.metric.instance_id!, labels: { instance_id: r.metric.instance_id! }, points: toPoints(grid, r) }));
  }

  private async rangeQuery(query: string, grid: Grid): Promise<MatrixResult[]> {
    const step = grid.stepSeconds;
    const first = pointTime(grid, 0) / 1000 + step;
    return this.call<MatrixResult>("/api/v1/query_range", {
      query,
      start: String(first),
      end: String(first + (grid.count - 1) * step),
      step: String(step),
    });
  }

  private async instant(query: string): Promise<VectorResult[]> {
    return this.call<VectorResult>("/api/v1/query", { query, time: String(this.now() / 1000) });
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
