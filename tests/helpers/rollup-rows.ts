// Writes metric_rollups rows directly, at any resolution and time: stand-ins for what instances
// (10 s rows) and the leader's rollups (1 min, 10 min rows, and the fleet's rows summing every
// instance's) would have written hours or days ago, so that tests can hold every range's truth
// without waiting for it.
import type pg from "pg";
import { DB_BOUNDS, ENDPOINT_LAYOUT, FLEET_ROW_ID, LATENCY_BOUNDS } from "../../lib/platform/metrics-history/layout";

export interface RollupRow {
  resolution: 10 | 60 | 600;
  instanceId: string;
  /** Unix ms, a multiple of the resolution. */
  bucket: number;
  requests2xx?: number;
  requests4xx?: number;
  requests5xx?: number;
  cacheHits?: number;
  cacheMisses?: number;
  cacheBypass?: number;
  /** Index into LATENCY_BOUNDS (+Inf last) every request's latency falls in (default 2: 10–25 ms). */
  latencyBucket?: number;
  /** CPU use over the bucket, in % of one core (default 10). */
  cpuPercent?: number;
  /** Not yet rolled up (default: 10 s rows are, coarser rows are not). */
  dirty?: boolean;
}

export const requestsOf = (row: RollupRow) => (row.requests2xx ?? 0) + (row.requests4xx ?? 0) + (row.requests5xx ?? 0);

/** Latency histogram of a row: every request in its one bucket. */
function latencyOf(row: RollupRow): number[] {
  const latency = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
  latency[row.latencyBucket ?? 2] = requestsOf(row);
  return latency;
}

/**
 * The rows and the fleet's rows the leader would have added: per bucket, the sum of every
 * instance's row it has rolled up (all coarse rows; 10 s rows once clean).
 */
export async function insertRollupRows(db: pg.Pool, rows: readonly RollupRow[]): Promise<void> {
  const fleet = new Map<string, { row: RollupRow; latency: number[] }>();
  for (const row of rows) {
    if (row.resolution === 10 && (row.dirty ?? true)) continue;
    const key = `${row.resolution}:${row.bucket}`;
    const sum = fleet.get(key) ?? {
      row: { resolution: row.resolution, instanceId: FLEET_ROW_ID, bucket: row.bucket, dirty: false },
      latency: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0),
    };
    for (const field of ["requests2xx", "requests4xx", "requests5xx", "cacheHits", "cacheMisses", "cacheBypass"] as const)
      sum.row[field] = (sum.row[field] ?? 0) + (row[field] ?? 0);
    latencyOf(row).forEach((n, k) => (sum.latency[k]! += n));
    fleet.set(key, sum);
  }
  for (const row of rows) await insertRow(db, row, latencyOf(row));
  for (const { row, latency } of fleet.values()) await insertRow(db, row, latency);
}

async function insertRow(db: pg.Pool, row: RollupRow, latency: number[]): Promise<void> {
  if (row.bucket % (row.resolution * 1000) !== 0)
    throw new RangeError(`bucket ${new Date(row.bucket).toISOString()} is not on a ${row.resolution} s boundary`);
  const requests = requestsOf(row);
  const byEndpoint = new Array<number>(ENDPOINT_LAYOUT.length).fill(0);
  byEndpoint[0] = requests;
  const samples = row.resolution / 10;
  await db.query(
    `INSERT INTO metric_rollups (
       resolution, instance_id, bucket, seconds, samples, requests_2xx, requests_3xx, requests_4xx, requests_5xx, requests_by_endpoint,
       latency_buckets, latency_sum_seconds, cache_hits, cache_misses, cache_bypass, cpu_seconds,
       rss_bytes_sum, rss_bytes_max, memory_limit_bytes, in_flight_sum, in_flight_max, connections_sum, connections_max,
       db_pool_total_sum, db_pool_in_use_sum, db_pool_waiting_sum, db_pool_waiting_max,
       db_query_buckets, db_query_sum_seconds, db_query_errors, dirty, last_snapshot_at)
     VALUES ($1::int, $2, $3::timestamptz, $4::float8, $5::int, $6, 0, $7, $8, $9, $10, 0, $11, $12, $13, $16::float8 / 100 * $4::float8,
       $5::int * 1e8, 1e8, 2e9, 0, 0, $5::int, 1, $5::int * 5, $5::int, 0, 0, $14, 0, 0, $15, $3::timestamptz + $4::float8 * interval '1 second')`,
    [
      row.resolution,
      row.instanceId,
      new Date(row.bucket),
      row.resolution,
      samples,
      row.requests2xx ?? 0,
      row.requests4xx ?? 0,
      row.requests5xx ?? 0,
      byEndpoint,
      latency,
      row.cacheHits ?? 0,
      row.cacheMisses ?? 0,
      row.cacheBypass ?? 0,
      new Array<number>(DB_BOUNDS.length + 1).fill(0),
      row.dirty ?? row.resolution === 10,
      row.cpuPercent ?? 10,
    ],
  );
}
