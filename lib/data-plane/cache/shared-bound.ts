// The shared response-cache table's bound, kept by the leader: expired rows go first, then, while
// the table holds more than `maxRows` rows or `maxBytes` payload bytes, the rows that expire
// soonest — with one TTL, the oldest written. All in small fenced batches.
//
// Why oldest-first and not least-recently-used: an LRU order needs a write per shared hit (a
// "last used" bump), and the shared table would learn little from it, since an answer in demand
// is served from each instance's own LRU and reaches this table only on a local miss. Oldest-first
// costs nothing on the request path and uses the expiry index the TTL already needs; an answer
// still in demand after eviction is written again on its next miss.
import type pg from "pg";
import type { Fence } from "../../platform/coordination/lease";
import { inFencedTransaction, Prisma, rows } from "../../platform/metrics-history/sql";
import { deleteInBatches } from "../../platform/retention/batched-delete";

export interface SharedCacheBound {
  maxRows: number;
  maxBytes: number;
  /** Rows per batch; default 2,000. */
  batch?: number;
  /** Batches per run for expiry and for eviction each; default 50. */
  maxBatches?: number;
  signal?: AbortSignal;
}

export interface SharedCacheSize {
  rows: number;
  /** Payload bytes: key, model and body (what CACHE_SHARED_MAX_BYTES bounds). */
  bytes: number;
}

export interface SharedCacheBoundResult extends SharedCacheSize {
  expired: number;
  evicted: number;
}

export async function measureSharedCache(db: pg.Pool | pg.PoolClient): Promise<SharedCacheSize> {
  const [size] = await rows<{ rows: string; bytes: string }>(
    db,
    Prisma.sql`SELECT count(*) AS rows, coalesce(sum(size_bytes), 0) AS bytes FROM response_cache`,
  );
  return { rows: Number(size!.rows), bytes: Number(size!.bytes) };
}

/**
 * One run of the bound: deletes expired rows, then evicts the soonest-expiring rows until the
 * table is within both bounds (or the batches run out: the next run goes on). Resolves to what it
 * did and the size it left, or null when the fence refused (no longer the leader).
 */
export async function boundSharedCache(
  pool: pg.Pool,
  fence: Fence,
  bound: SharedCacheBound,
): Promise<SharedCacheBoundResult | null> {
  const batch = bound.batch ?? 2_000;
  const maxBatches = bound.maxBatches ?? 50;
  const expired = await deleteInBatches(pool, fence, "response_cache", Prisma.sql`expires_at <= now()`, {
    batch,
    maxBatches,
    signal: bound.signal,
  });
  if (expired === null) return null;
  let size = await measureSharedCache(pool);
  let evicted = 0;
  for (let round = 0; round < maxBatches && !bound.signal?.aborted; round++) {
    const excessRows = size.rows - bound.maxRows;
    const excessBytes = size.bytes - bound.maxBytes;
    if (excessRows <= 0 && excessBytes <= 0) break;
    const freed = await evictOldest(pool, fence, excessRows, excessBytes, batch);
    if (freed === null) return null;
    if (freed.rows === 0) break;
    evicted += freed.rows;
    size = { rows: size.rows - freed.rows, bytes: size.bytes - freed.bytes };
  }
  return { expired, evicted, ...size };
}

/**
 * Deletes the shortest prefix, in expiry order and at most `batch` rows, that removes
 * `excessRows` rows and `excessBytes` bytes. The inner LIMIT keeps it a walk of the expiry index.
 */
function evictOldest(pool: pg.Pool, fence: Fence, excessRows: number, excessBytes: number, batch: number) {
  return inFencedTransaction(pool, fence, async (client) => {
    const deleted = await rows<{ size_bytes: number }>(
      client,
      Prisma.sql`
        DELETE FROM response_cache WHERE ctid = ANY(ARRAY(
          SELECT ctid FROM (
            SELECT ctid, row_number() OVER w AS position, sum(size_bytes) OVER w - size_bytes AS freed_before
            FROM (SELECT ctid, size_bytes, expires_at FROM response_cache ORDER BY expires_at LIMIT ${batch}::int) oldest
            WINDOW w AS (ORDER BY expires_at ROWS UNBOUNDED PRECEDING)) walk
          WHERE position <= ${Math.max(0, excessRows)}::bigint OR freed_before < ${Math.max(0, excessBytes)}::bigint))
        RETURNING size_bytes`,
    );
    return { rows: deleted.length, bytes: deleted.reduce((sum, row) => sum + row.size_bytes, 0) };
  });
}
