// Leader jobs over metric_rollups: rolling 10 s rows up into 1 min rows and those into 10 min rows,
// and pruning each resolution after its retention. Every write is fenced with the leadership's
// token (lib/platform/coordination/lease.ts): a deposed leader's late write is refused.
//
// Rolling up is a recomputation, never an increment, so running it twice is harmless. A source row
// is "dirty" when it changed since it was last rolled up (instances set the flag on every write).
// One transaction claims a batch of dirty rows (clearing the flag and locking them), then
// recomputes, in a second statement that sees every committed row, each target bucket they fall
// in from all of that bucket's source rows. An instance writing a claimed row meanwhile waits for
// the commit and sets the flag again, so its addition is rolled up next time; a row added to a
// bucket after the recompute read it stays dirty for the same reason. Late snapshots (retried
// after an outage) are therefore rolled up too.
//
// The fleet has rows of its own (instance id FLEET_ROW_ID): in the same transaction, every claimed
// 10 s bucket's fleet row is recomputed from all instances' rows of that bucket, and every target
// bucket's fleet row from the fleet's rows below it. Fleet-wide charts, totals and peaks then read
// one row per bucket instead of one per instance. The same argument holds for them: a fleet row is
// exact once no instance row it sums is dirty (lib/platform/metrics-history/query/completeness.ts).
import type pg from "pg";
import type { Fence } from "../coordination/lease";
import { deleteBatch } from "../retention/batched-delete";
import { DB_BOUNDS, ENDPOINT_LAYOUT, FLEET_ROW_ID, LATENCY_BOUNDS } from "./layout";
import { inFencedTransaction, Prisma, rows, run } from "./sql";
import { ROLLUP_COLUMNS } from "./store";

export const ROLLUP_STEPS = [
  [10, 60],
  [60, 600],
] as const;
const TOP_RESOLUTION = 600;
const FINEST_RESOLUTION = 10;

const sumArray = (column: string, length: number) =>
  Prisma.sql`ARRAY[${Prisma.join(Array.from({ length }, (_, k) => Prisma.sql`coalesce(sum(r.${Prisma.raw(column)}[${k + 1}::int]), 0)`))}]::bigint[]`;

/**
 * Rolls up to `batch` dirty rows of resolution `from` into `to`. Resolves to the number of source
 * rows claimed (a full batch means more may be waiting), or null when the fence refused.
 */
export async function rollUp(pool: pg.Pool, fence: Fence, from: number, to: number, batch = 5_000): Promise<number | null> {
  return inFencedTransaction(pool, fence, async (client) => {
    const claimed = await rows<{ instance_id: string; bucket: Date; target: Date }>(
      client,
      Prisma.sql`
        UPDATE metric_rollups SET dirty = false
        WHERE (resolution, instance_id, bucket) IN (
          SELECT resolution, instance_id, bucket FROM metric_rollups
          WHERE resolution = ${from}::int AND dirty
          ORDER BY bucket LIMIT ${batch}::int
          FOR UPDATE SKIP LOCKED)
        RETURNING instance_id, bucket, date_bin(${to}::int * interval '1 second', bucket, timestamptz 'epoch') AS target`,
    );
    if (claimed.length > 0) {
      if (from === FINEST_RESOLUTION) {
        const buckets = new Set(claimed.map((c) => c.bucket.toISOString()));
        await run(client, recomputeFleet(from, [...buckets]));
      }
      const targets = new Map<string, { id: string; bucket: Date }>();
      for (const c of claimed) {
        for (const id of [c.instance_id, FLEET_ROW_ID]) targets.set(`${id}\u0000${c.target.getTime()}`, { id, bucket: c.target });
      }
      const ids = [...targets.values()].map((t) => t.id);
      const buckets = [...targets.values()].map((t) => t.bucket.toISOString());
      await run(client, recompute(from, to, ids, buckets));
    }
    return claimed.length;
  });
}

/** The aggregate of source rows `r` as the rest of a metric_rollups row: sums, merged histograms, maxima. */
const sums = (dirty: Prisma.Sql) => Prisma.sql`
    sum(r.seconds), sum(r.samples),
      sum(r.requests_2xx), sum(r.requests_3xx), sum(r.requests_4xx), sum(r.requests_5xx),
      ${sumArray("requests_by_endpoint", ENDPOINT_LAYOUT.length)},
      ${sumArray("latency_buckets", LATENCY_BOUNDS.length + 1)}, sum(r.latency_sum_seconds),
      sum(r.cache_hits), sum(r.cache_misses), sum(r.cache_bypass),
      sum(r.cpu_seconds), sum(r.rss_bytes_sum), max(r.rss_bytes_max), max(r.memory_limit_bytes),
      sum(r.in_flight_sum), max(r.in_flight_max), sum(r.connections_sum), max(r.connections_max),
      sum(r.db_pool_total_sum), sum(r.db_pool_in_use_sum), sum(r.db_pool_waiting_sum), max(r.db_pool_waiting_max),
      ${sumArray("db_query_buckets", DB_BOUNDS.length + 1)}, sum(r.db_query_sum_seconds), sum(r.db_query_errors),
      sum(r.upstream_auth_rejected),
      ${dirty}, max(r.last_snapshot_at)
`;

/** A recomputed row replaces what was there. */
const REPLACE_ON_CONFLICT = Prisma.sql`
    ON CONFLICT (resolution, instance_id, bucket) DO UPDATE SET
      seconds = EXCLUDED.seconds, samples = EXCLUDED.samples,
      requests_2xx = EXCLUDED.requests_2xx, requests_3xx = EXCLUDED.requests_3xx,
      requests_4xx = EXCLUDED.requests_4xx, requests_5xx = EXCLUDED.requests_5xx,
      requests_by_endpoint = EXCLUDED.requests_by_endpoint,
      latency_buckets = EXCLUDED.latency_buckets, latency_sum_seconds = EXCLUDED.latency_sum_seconds,
      cache_hits = EXCLUDED.cache_hits, cache_misses = EXCLUDED.cache_misses, cache_bypass = EXCLUDED.cache_bypass,
      cpu_seconds = EXCLUDED.cpu_seconds, rss_bytes_sum = EXCLUDED.rss_bytes_sum,
      rss_bytes_max = EXCLUDED.rss_bytes_max, memory_limit_bytes = EXCLUDED.memory_limit_bytes,
      in_flight_sum = EXCLUDED.in_flight_sum, in_flight_max = EXCLUDED.in_flight_max,
      connections_sum = EXCLUDED.connections_sum, connections_max = EXCLUDED.connections_max,
      db_pool_total_sum = EXCLUDED.db_pool_total_sum, db_pool_in_use_sum = EXCLUDED.db_pool_in_use_sum,
      db_pool_waiting_sum = EXCLUDED.db_pool_waiting_sum, db_pool_waiting_max = EXCLUDED.db_pool_waiting_max,
      db_query_buckets = EXCLUDED.db_query_buckets, db_query_sum_seconds = EXCLUDED.db_query_sum_seconds,
      db_query_errors = EXCLUDED.db_query_errors, upstream_auth_rejected = EXCLUDED.upstream_auth_rejected, dirty = EXCLUDED.dirty, last_snapshot_at = EXCLUDED.last_snapshot_at`;

/**
 * The fleet's own row of each 10 s bucket, recomputed from every instance's row of it. The fleet's
 * rows are always written clean: the same transaction rolls each into its target, and whatever
 * changes a fleet row also dirties an instance's row of the same target, whose claim recomputes it.
 */
function recomputeFleet(resolution: number, buckets: string[]): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO metric_rollups ${ROLLUP_COLUMNS}
    SELECT ${resolution}::int, ${FLEET_ROW_ID}, t.bucket, a.*
    FROM unnest(${buckets}::timestamptz[]) AS t(bucket)
    CROSS JOIN LATERAL (
    SELECT ${sums(Prisma.sql`false`)}
    FROM metric_rollups r
    WHERE r.resolution = ${resolution}::int AND r.bucket = t.bucket AND r.instance_id <> ${FLEET_ROW_ID}
    HAVING count(*) > 0) AS a
    ${REPLACE_ON_CONFLICT}`;
}

// One lateral aggregate per target row, so that each reads its few source rows through the primary
// key. As a plain join grouped by target, the planner's default estimate for the bucket range made
// a seq scan over every source row look cheaper once a batch had a few tens of targets — which it
// has at every run in a fleet of tens of instances: 0.5 s of the leader's every 10 s at 40
// instances (see docs/performance.md, "Fleet"). HAVING drops targets without source rows.
function recompute(from: number, to: number, ids: string[], buckets: string[]): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO metric_rollups ${ROLLUP_COLUMNS}
    SELECT ${to}::int, t.instance_id, t.bucket, a.*
    FROM unnest(${ids}::text[], ${buckets}::timestamptz[]) AS t(instance_id, bucket)
    CROSS JOIN LATERAL (
    SELECT ${sums(Prisma.sql`${to !== TOP_RESOLUTION}::boolean AND t.instance_id <> ${FLEET_ROW_ID}`)}
    FROM metric_rollups r
    WHERE r.resolution = ${from}::int AND r.instance_id = t.instance_id
      AND r.bucket >= t.bucket AND r.bucket < t.bucket + ${to}::int * interval '1 second'
    HAVING count(*) > 0) AS a
    ${REPLACE_ON_CONFLICT}`;
}

/**
 * Adds the fleet's rows missing for the last `sinceSeconds` (by the database's clock), each summed
 * from the instances' rows of its bucket. A new leader runs it once: a leader of an earlier
 * version, during a rolling upgrade, rolled up without them. A 10 s bucket with a row not yet
 * rolled up is left to rollUp, which recomputes its fleet row when it claims that row. Resolves to
 * the rows added, or null when fenced out.
 */
export async function addMissingFleetRows(pool: pg.Pool, fence: Fence, sinceSeconds: number): Promise<number | null> {
  return inFencedTransaction(pool, fence, async (client) => {
    const { rowCount } = await run(
      client,
      Prisma.sql`
        INSERT INTO metric_rollups ${ROLLUP_COLUMNS}
        SELECT r.resolution, ${FLEET_ROW_ID}, r.bucket, ${sums(Prisma.sql`false`)}
        FROM metric_rollups r
        WHERE r.instance_id <> ${FLEET_ROW_ID} AND r.bucket >= now() - ${sinceSeconds}::int * interval '1 second'
          AND NOT EXISTS (SELECT 1 FROM metric_rollups f
                          WHERE f.resolution = r.resolution AND f.instance_id = ${FLEET_ROW_ID} AND f.bucket = r.bucket)
        GROUP BY r.resolution, r.bucket
        HAVING r.resolution <> ${FINEST_RESOLUTION}::int OR bool_and(NOT r.dirty)
        ON CONFLICT (resolution, instance_id, bucket) DO NOTHING`,
    );
    return rowCount ?? 0;
  });
}

/**
 * Deletes up to `batch` rows of `resolution` older than `retentionSeconds` (by the database's
 * clock); rows not yet rolled up are kept. Resolves to the number deleted, or null when fenced out.
 */
export function prune(
  pool: pg.Pool,
  fence: Fence,
  resolution: number,
  retentionSeconds: number,
  batch = 10_000,
): Promise<number | null> {
  return deleteBatch(pool, fence, "metric_rollups", pastRetention(resolution, retentionSeconds), batch);
}

/** Rows of `resolution` older than `retentionSeconds` and already rolled up (by the database's clock). */
function pastRetention(resolution: number, retentionSeconds: number): Prisma.Sql {
  return Prisma.sql`resolution = ${resolution}::int AND NOT dirty AND bucket < now() - ${retentionSeconds}::int * interval '1 second'`;
}
