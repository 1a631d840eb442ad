// Writes one snapshot into this instance's 10 s row of metric_rollups, adding to what earlier
// snapshots of the same bucket put there. Idempotent per snapshot: a retry of a write that did
// commit (the answer was lost) finds last_snapshot_at already at or past it and changes nothing.
import { Prisma, run, type Queryable } from "./sql";
import { snapshotBucket, type Snapshot } from "./snapshot";

const BASE_RESOLUTION_SECONDS = 10;

const iso = (ms: number) => new Date(ms).toISOString();
// Counters hold whole counts as floats; bigint parameters must be written without a fraction.
const int = (n: number) => Math.round(n);

/** Adds two equally long bigint arrays element-wise. */
const addArrays = (column: string) =>
  Prisma.raw(
    `(SELECT array_agg(coalesce(a, 0) + coalesce(b, 0) ORDER BY i) FROM unnest(metric_rollups.${column}, EXCLUDED.${column}) WITH ORDINALITY AS u(a, b, i))`,
  );

/** metric_rollups' columns, in the order both the snapshot writer and the rollups insert them. */
export const ROLLUP_COLUMNS = Prisma.raw(`(
      resolution, instance_id, bucket, seconds, samples,
      requests_2xx, requests_3xx, requests_4xx, requests_5xx, requests_by_endpoint,
      latency_buckets, latency_sum_seconds, cache_hits, cache_misses, cache_bypass,
      cpu_seconds, rss_bytes_sum, rss_bytes_max, memory_limit_bytes,
      in_flight_sum, in_flight_max, connections_sum, connections_max,
      db_pool_total_sum, db_pool_in_use_sum, db_pool_waiting_sum, db_pool_waiting_max,
      db_query_buckets, db_query_sum_seconds, db_query_errors, upstream_auth_rejected, dirty, last_snapshot_at)`);

/** Resolves to true when the row changed, false when this snapshot had already been written. */
export async function writeSnapshot(db: Queryable, instanceId: string, snapshot: Snapshot): Promise<boolean> {
  const s = snapshot;
  const seconds = Math.max(0, (s.at - s.periodStart) / 1000);
  const result = await run(
    db,
    Prisma.sql`
    INSERT INTO metric_rollups ${ROLLUP_COLUMNS}
    VALUES (
      ${BASE_RESOLUTION_SECONDS}, ${instanceId}, ${iso(snapshotBucket(s, BASE_RESOLUTION_SECONDS))}::timestamptz, ${seconds}::float8, 1,
      ${int(s.requests[0])}::bigint, ${int(s.requests[1])}::bigint, ${int(s.requests[2])}::bigint, ${int(s.requests[3])}::bigint, ${s.requestsByEndpoint.map(int)}::bigint[],
      ${s.latency.map(int)}::bigint[], ${s.latencySum}::float8, ${int(s.cache.hit)}::bigint, ${int(s.cache.miss)}::bigint, ${int(s.cache.bypass)}::bigint,
      ${s.cpuSeconds}::float8, ${s.rssBytes}::float8, ${int(s.rssBytes)}::bigint, ${int(s.memoryLimitBytes)}::bigint,
      ${s.inFlight}::float8, ${int(s.inFlight)}::int, ${s.connections}::float8, ${int(s.connections)}::int,
      ${s.poolTotal}::float8, ${s.poolInUse}::float8, ${s.poolWaiting}::float8, ${int(s.poolWaiting)}::int,
      ${s.dbQuery.map(int)}::bigint[], ${s.dbQuerySum}::float8, ${int(s.dbQueryErrors)}::bigint, ${int(s.upstreamAuthRejected)}::bigint, true, ${iso(s.at)}::timestamptz)
    ON CONFLICT (resolution, instance_id, bucket) DO UPDATE SET
      seconds = metric_rollups.seconds + EXCLUDED.seconds,
      samples = metric_rollups.samples + EXCLUDED.samples,
      requests_2xx = metric_rollups.requests_2xx + EXCLUDED.requests_2xx,
      requests_3xx = metric_rollups.requests_3xx + EXCLUDED.requests_3xx,
      requests_4xx = metric_rollups.requests_4xx + EXCLUDED.requests_4xx,
      requests_5xx = metric_rollups.requests_5xx + EXCLUDED.requests_5xx,
      requests_by_endpoint = ${addArrays("requests_by_endpoint")},
      latency_buckets = ${addArrays("latency_buckets")},
      latency_sum_seconds = metric_rollups.latency_sum_seconds + EXCLUDED.latency_sum_seconds,
      cache_hits = metric_rollups.cache_hits + EXCLUDED.cache_hits,
      cache_misses = metric_rollups.cache_misses + EXCLUDED.cache_misses,
      cache_bypass = metric_rollups.cache_bypass + EXCLUDED.cache_bypass,
      cpu_seconds = metric_rollups.cpu_seconds + EXCLUDED.cpu_seconds,
      rss_bytes_sum = metric_rollups.rss_bytes_sum + EXCLUDED.rss_bytes_sum,
      rss_bytes_max = GREATEST(metric_rollups.rss_bytes_max, EXCLUDED.rss_bytes_max),
      memory_limit_bytes = EXCLUDED.memory_limit_bytes,
      in_flight_sum = metric_rollups.in_flight_sum + EXCLUDED.in_flight_sum,
      in_flight_max = GREATEST(metric_rollups.in_flight_max, EXCLUDED.in_flight_max),
      connections_sum = metric_rollups.connections_sum + EXCLUDED.connections_sum,
      connections_max = GREATEST(metric_rollups.connections_max, EXCLUDED.connections_max),
      db_pool_total_sum = metric_rollups.db_pool_total_sum + EXCLUDED.db_pool_total_sum,
      db_pool_in_use_sum = metric_rollups.db_pool_in_use_sum + EXCLUDED.db_pool_in_use_sum,
      db_pool_waiting_sum = metric_rollups.db_pool_waiting_sum + EXCLUDED.db_pool_waiting_sum,
      db_pool_waiting_max = GREATEST(metric_rollups.db_pool_waiting_max, EXCLUDED.db_pool_waiting_max),
      db_query_buckets = ${addArrays("db_query_buckets")},
      db_query_sum_seconds = metric_rollups.db_query_sum_seconds + EXCLUDED.db_query_sum_seconds,
      db_query_errors = metric_rollups.db_query_errors + EXCLUDED.db_query_errors,
      upstream_auth_rejected = metric_rollups.upstream_auth_rejected + EXCLUDED.upstream_auth_rejected,
      dirty = true,
      last_snapshot_at = EXCLUDED.last_snapshot_at
    WHERE metric_rollups.last_snapshot_at < EXCLUDED.last_snapshot_at`,
  );
  return result.rowCount === 1;
}
