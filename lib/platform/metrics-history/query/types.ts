// The one interface the console and the alert rules read metrics through. Two implementations:
// PromQL against PROMETHEUS_URL, and SQL over the instances' rollups in PostgreSQL. Each named
// function is implemented once per source; callers never build PromQL or SQL themselves.

export interface TimeRange {
  start: Date;
  end: Date;
  /** Resolution of the returned series. */
  stepSeconds: number;
}

/** One sample; `v` is null where there was no data (a gap, drawn as a gap, never as zero). */
export interface Point {
  /** Unix time in milliseconds, at the start of the step. */
  t: number;
  v: number | null;
}

export interface Series {
  /** e.g. "total", "p95", an instance id. */
  name: string;
  labels?: Record<string, string>;
  points: Point[];
}

/** A stretch of time with no step: [start, end). */
export type Span = Pick<TimeRange, "start" | "end">;

export interface Totals {
  /** Completion requests (every status). Exact from the rollups; from Prometheus, increase() rounded. */
  requests: number;
  requests4xx: number;
  requests5xx: number;
  cacheHits: number;
  cacheMisses: number;
  cacheBypass: number;
  /** From the span's merged latency histogram; null without requests. */
  latencyP95Seconds: number | null;
}

export interface Peak {
  /** Requests per second, averaged over `resolutionSeconds`; null without requests. */
  perSecond: number | null;
  /** What the peak is averaged over: the finest resolution that held it. */
  resolutionSeconds: number;
  /** Unix ms of the start of that interval. */
  at: number | null;
}

export interface InstanceHealth {
  id: string;
  host: string;
  port: number;
  version: string;
  status: "healthy" | "draining" | "dead";
  /** What it serves (lib/platform/coordination/registry.ts): capacity and scaling count data_plane and both. */
  role: "data_plane" | "console" | "both";
  startedAt: Date;
  lastSeenAt: Date;
  cpuPercent: number | null;
  rssBytes: number | null;
  requestsPerSecond: number | null;
  inFlight: number | null;
}

export interface MetricsSource {
  readonly kind: "prometheus" | "postgres";
  /** Completion requests per second, fleet total: one series "total". */
  requestRate(range: TimeRange): Promise<Series[]>;
  /** Completion requests per second, one series per endpoint (chat, responses, messages, completions, embeddings) that served any in the range. */
  requestRateByEndpoint(range: TimeRange): Promise<Series[]>;
  /** Requests per second, one series per instance. */
  requestRateByInstance(range: TimeRange): Promise<Series[]>;
  /** Fleet latency percentiles from merged histogram buckets: series "p50", "p95", "p99" (seconds). */
  latencyPercentiles(range: TimeRange): Promise<Series[]>;
  /** Share of completion requests answered with a server error and with a client error (0..1): series "5xx" and "4xx". */
  errorRate(range: TimeRange): Promise<Series[]>;
  /** Upstream attempts refused with 401/403 — the gateway's credentials rejected — counted per step, fleet-wide: one series "total". */
  upstreamAuthRejections(range: TimeRange): Promise<Series[]>;
  /**
   * Requests served from cache ÷ all completion requests (0..1): "hit_rate"; hits ÷ cacheable
   * requests (hits + misses): "cacheable_hit_rate"; responses served from cache per second: "served_per_second".
   */
  cacheHitRate(range: TimeRange): Promise<Series[]>;
  /** Counts over the whole of [start, end) (ends on 10 s boundaries), summed across instances. */
  totals(range: Span): Promise<Totals>;
  /** The fleet's highest request rate in [start, end), at the finest resolution kept for each part of it. */
  peakRequestRate(range: Span): Promise<Peak>;
  /** Requests being served, one series per instance. */
  inFlight(range: TimeRange): Promise<Series[]>;
  /** Open client connections, one series per instance. */
  activeConnections(range: TimeRange): Promise<Series[]>;
  /** Database: "query_p95_seconds", "pool_in_use", "pool_waiting", "pool_total". */
  databasePerformance(range: TimeRange): Promise<Series[]>;
  /** CPU utilisation per instance (0..100 % of one core's worth of the instance's CPU request). */
  cpuUtilisation(range: TimeRange): Promise<Series[]>;
  /** Resident memory per instance, bytes. */
  memoryBytes(range: TimeRange): Promise<Series[]>;
  /** Resident memory per instance as a share of its memory limit (cgroup, else the machine's), 0..100 %. */
  memoryUtilisation(range: TimeRange): Promise<Series[]>;
  /** The registry's view of every instance now. */
  instanceHealth(): Promise<InstanceHealth[]>;
}
