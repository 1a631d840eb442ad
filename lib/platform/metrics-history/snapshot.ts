// Reads this process's numbers from the prom-client registry — the one source of truth that
// /metrics also serves — and turns two readings into a snapshot: what was counted between them,
// and the gauges as they stood at the later one.
import type client from "prom-client";
import { DB_BOUNDS, ENDPOINT_LAYOUT, LATENCY_BOUNDS } from "./layout";

/** Cumulative counters and current gauges at one instant. */
export interface Reading {
  /** Unix ms. */
  at: number;
  /** Completion requests by status class: 2xx, 3xx, 4xx, 5xx. */
  requests: [number, number, number, number];
  /** Completion requests by endpoint, in ENDPOINT_LAYOUT order. */
  requestsByEndpoint: number[];
  /** Completion latency, per bucket (not cumulative), LATENCY_BOUNDS then +Inf. */
  latency: number[];
  latencySum: number;
  cache: { hit: number; miss: number; bypass: number };
  cpuSeconds: number;
  /** PostgreSQL query latency, per bucket, DB_BOUNDS then +Inf. */
  dbQuery: number[];
  dbQuerySum: number;
  dbQueryErrors: number;
  /** Upstream attempts refused with 401/403 (the gateway's credentials rejected). */
  upstreamAuthRejected: number;
  rssBytes: number;
  memoryLimitBytes: number;
  inFlight: number;
  connections: number;
  poolTotal: number;
  poolInUse: number;
  poolWaiting: number;
}

/** What one instance counted in [periodStart, at), with its gauges at `at`. */
export interface Snapshot extends Reading {
  periodStart: number;
}

export const ZERO_READING: Reading = {
  at: 0,
  requests: [0, 0, 0, 0],
  requestsByEndpoint: new Array<number>(ENDPOINT_LAYOUT.length).fill(0),
  latency: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0),
  latencySum: 0,
  cache: { hit: 0, miss: 0, bypass: 0 },
  cpuSeconds: 0,
  dbQuery: new Array<number>(DB_BOUNDS.length + 1).fill(0),
  dbQuerySum: 0,
  dbQueryErrors: 0,
  upstreamAuthRejected: 0,
  rssBytes: 0,
  memoryLimitBytes: 0,
  inFlight: 0,
  connections: 0,
  poolTotal: 0,
  poolInUse: 0,
  poolWaiting: 0,
};

type Values = Array<client.MetricValue<string> & { metricName?: string }>;

async function values(registry: client.Registry, name: string): Promise<Values> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values;
}

const sum = (list: Values) => list.reduce((total, v) => total + v.value, 0);

async function gauge(registry: client.Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const matching = (await values(registry, name)).filter((v) =>
    Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return sum(matching);
}

/**
 * A histogram merged over all its label sets, as per-bucket counts in `bounds` order then +Inf.
 * Throws when the registry's buckets are not `bounds`: stored rows of different layouts must never
 * be added together.
 */
export async function mergedHistogram(
  registry: client.Registry,
  name: string,
  bounds: readonly number[],
): Promise<{ buckets: number[]; sum: number }> {
  const all = await values(registry, name);
  const cumulative = new Array<number>(bounds.length + 1).fill(0);
  const seen = new Set<string>();
  for (const v of all) {
    if (v.metricName !== `${name}_bucket`) continue;
    const le = v.labels.le;
    const index = le === "+Inf" ? bounds.length : bounds.indexOf(Number(le));
    if (index < 0) throw new Error(`${name} has a bucket le=${le} that the stored layout does not have (${bounds.join(", ")})`);
    seen.add(String(le));
    cumulative[index]! += v.value;
  }
  if (seen.size > 0 && seen.size !== bounds.length + 1) {
    throw new Error(`${name} has ${seen.size} buckets, the stored layout ${bounds.length + 1}`);
  }
  const buckets = cumulative.map((count, i) => count - (i === 0 ? 0 : cumulative[i - 1]!));
  return { buckets, sum: sum(all.filter((v) => v.metricName === `${name}_sum`)) };
}

export async function readRegistry(registry: client.Registry, at = Date.now()): Promise<Reading> {
  const requests: Reading["requests"] = [0, 0, 0, 0];
  const requestsByEndpoint = new Array<number>(ENDPOINT_LAYOUT.length).fill(0);
  for (const v of await values(registry, "agenticorp_gateway_requests_total")) {
    const index = Number(String(v.labels.status).charAt(0)) - 2;
    if (index >= 0 && index < 4) requests[index]! += v.value;
    const endpoint = ENDPOINT_LAYOUT.indexOf(String(v.labels.endpoint));
    if (endpoint >= 0) requestsByEndpoint[endpoint]! += v.value;
  }
  const cacheValues = await values(registry, "agenticorp_cache_requests_total");
  const cache = (result: string) => sum(cacheValues.filter((v) => v.labels.result === result));
  const latency = await mergedHistogram(registry, "agenticorp_gateway_request_duration_seconds", LATENCY_BOUNDS);
  const dbQuery = await mergedHistogram(registry, "agenticorp_db_query_duration_seconds", DB_BOUNDS);
  // prom-client updates all three CPU counters from the user counter's collect().
  await values(registry, "process_cpu_user_seconds_total");
  const poolIdle = await gauge(registry, "agenticorp_db_pool_connections", { state: "idle" });
  const poolInUse = await gauge(registry, "agenticorp_db_pool_connections", { state: "in_use" });
  return {
    at,
    requests,
    requestsByEndpoint,
    latency: latency.buckets,
    latencySum: latency.sum,
    cache: { hit: cache("hit"), miss: cache("miss"), bypass: cache("bypass") },
    cpuSeconds: await gauge(registry, "process_cpu_seconds_total"),
    dbQuery: dbQuery.buckets,
    dbQuerySum: dbQuery.sum,
    dbQueryErrors: await gauge(registry, "agenticorp_db_query_errors_total"),
    upstreamAuthRejected: await gauge(registry, "agenticorp_upstream_attempt_failures_total", { reason: "auth_rejected" }),
    rssBytes: await gauge(registry, "process_resident_memory_bytes"),
    memoryLimitBytes: await gauge(registry, "agenticorp_process_memory_limit_bytes"),
    inFlight: await gauge(registry, "agenticorp_http_requests_in_flight"),
    connections: await gauge(registry, "agenticorp_http_connections_open"),
    poolTotal: poolIdle + poolInUse,
    poolInUse,
    poolWaiting: await gauge(registry, "agenticorp_db_pool_waiting_requests"),
  };
}

// Counters never go back within a process; a smaller value can only mean a reset registry, whose
// whole current value is then new.
const delta = (now: number, before: number) => (now >= before ? now - before : now);

/** What was counted between `before` and `now`, with `now`'s gauges. */
export function diffReadings(before: Reading, now: Reading, periodStart: number): Snapshot {
  return {
    ...now,
    periodStart,
    requests: now.requests.map((v, i) => delta(v, before.requests[i]!)) as Reading["requests"],
    requestsByEndpoint: now.requestsByEndpoint.map((v, i) => delta(v, before.requestsByEndpoint[i] ?? 0)),
    latency: now.latency.map((v, i) => delta(v, before.latency[i] ?? 0)),
    latencySum: delta(now.latencySum, before.latencySum),
    cache: {
      hit: delta(now.cache.hit, before.cache.hit),
      miss: delta(now.cache.miss, before.cache.miss),
      bypass: delta(now.cache.bypass, before.cache.bypass),
    },
    cpuSeconds: delta(now.cpuSeconds, before.cpuSeconds),
    dbQuery: now.dbQuery.map((v, i) => delta(v, before.dbQuery[i] ?? 0)),
    dbQuerySum: delta(now.dbQuerySum, before.dbQuerySum),
    dbQueryErrors: delta(now.dbQueryErrors, before.dbQueryErrors),
    upstreamAuthRejected: delta(now.upstreamAuthRejected, before.upstreamAuthRejected),
  };
}

/**
 * The 10 s bucket a snapshot belongs to: the one holding the middle of the period it covers, so
 * that with timers aligned to 10 s boundaries each snapshot fills exactly the bucket it measured.
 */
export function snapshotBucket(snapshot: Pick<Snapshot, "periodStart" | "at">, resolutionSeconds = 10): number {
  const middle = (snapshot.periodStart + snapshot.at) / 2;
  const width = resolutionSeconds * 1000;
  return Math.floor(middle / width) * width;
}
