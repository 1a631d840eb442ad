// Deletes rows in small fenced batches: each batch is one short transaction that first proves the
// leadership current (lib/platform/coordination/lease.ts), so a deposed leader deletes nothing, and no batch
// holds locks or bloats WAL for long. Rows are addressed by ctid, which needs no key and no index
// beyond the one the condition uses.
import type pg from "pg";
import type { Fence } from "../coordination/lease";
import { inFencedTransaction, Prisma, run } from "../metrics-history/sql";

/** Tables that grow with traffic or time; the only names these helpers splice into SQL. */
export const GROWING_TABLES = [
  "response_cache",
  "metric_rollups",
  "alert_events",
  "audit_log",
  "login_throttle",
  "rate_limit_windows",
  "instances",
  "scaling_decisions",
  "batches",
  "batch_jobs",
  "batch_files",
  "batch_file_chunks",
  "request_log",
  "usage_buckets",
  "quota_windows",
] as const;
export type GrowingTable = (typeof GROWING_TABLES)[number];

export interface BatchedDeleteOptions {
  /** Rows per batch (one transaction each). */
  batch: number;
  /** Batches per call at most: a backlog is worked off over several runs. */
  maxBatches: number;
  /** Stops between batches when it aborts (leadership ended). */
  signal?: AbortSignal;
  /** Which rows go first, e.g. Prisma.sql`ORDER BY expires_at`; unordered when absent. */
  order?: Prisma.Sql;
}

/** One batch: up to `batch` rows of `table` matching `where`. Resolves to the number deleted, or null when fenced out. */
export function deleteBatch(
  pool: pg.Pool,
  fence: Fence,
  table: GrowingTable,
  where: Prisma.Sql,
  batch: number,
  order: Prisma.Sql = Prisma.empty,
): Promise<number | null> {
  const name = Prisma.raw(`"${table}"`);
  return inFencedTransaction(pool, fence, async (client) => {
    const result = await run(
      client,
      Prisma.sql`DELETE FROM ${name} WHERE ctid = ANY(ARRAY(SELECT ctid FROM ${name} WHERE ${where} ${order} LIMIT ${batch}::int))`,
    );
    return result.rowCount ?? 0;
  });
}

/**
 * Deletes the rows of `table` matching `where`, a batch at a time, until none is left, the
 * batches run out or the signal aborts. Resolves to the number deleted, or null when fenced out.
 */
export async function deleteInBatches(
  pool: pg.Pool,
  fence: Fence,
  table: GrowingTable,
  where: Prisma.Sql,
  options: BatchedDeleteOptions,
): Promise<number | null> {
  let deleted = 0;
  for (let round = 0; round < options.maxBatches && !options.signal?.aborted; round++) {
    const count = await deleteBatch(pool, fence, table, where, options.batch, options.order);
    if (count === null) return null;
    deleted += count;
    if (count < options.batch) break;
  }
  return deleted;
}
