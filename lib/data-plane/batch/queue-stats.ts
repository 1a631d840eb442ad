// What the fleet's batch queue holds, and the batches it belongs to, for the console and queue-depth
// scaling. Both read PostgreSQL only (the queue is shared by every instance).
import { BATCH_COLUMNS, BATCH_LIVE_COUNTS_JOIN, toBatchObject, type BatchRow } from "./batch-rows";
import type { BatchObject } from "./shapes";
import { Prisma, rows, type Queryable } from "./sql";

export interface QueueStats {
  queued: number;
  running: number;
  /** Age of the oldest job still waiting to be claimed; null when none waits. */
  oldestQueuedAgeSeconds: number | null;
}

/** Jobs waiting and jobs held under a lease, fleet-wide (two walks of the queue's partial indexes). */
export async function readQueueStats(db: Queryable): Promise<QueueStats> {
  const [row] = await rows<{ queued: number; running: number; oldest: number | null }>(
    db,
    Prisma.sql`SELECT
      (SELECT count(*)::int FROM batch_jobs WHERE status = 'queued') AS queued,
      (SELECT count(*)::int FROM batch_jobs WHERE status = 'running') AS running,
      (SELECT EXTRACT(EPOCH FROM now() - created_at)::float8 FROM batch_jobs WHERE status = 'queued' ORDER BY id LIMIT 1) AS oldest`,
  );
  return {
    queued: row!.queued,
    running: row!.running,
    oldestQueuedAgeSeconds: row!.oldest === null ? null : Math.max(0, row!.oldest),
  };
}

export interface ListBatchesOptions {
  /** Only this key's batches (the data plane always sets it; the console may not). */
  keyId?: string;
  /** Page size, 1–100. */
  limit: number;
  /** A batch id: return the batches listed after it (older ones; the list is newest first). */
  after?: string;
}

export interface ListedBatch {
  batch: BatchObject;
  key: { id: string; name: string };
}

export interface BatchPage {
  data: ListedBatch[];
  hasMore: boolean;
}

/** Batches newest first, with the key that owns each. An unknown `after` id yields an empty page. */
export async function listBatches(db: Queryable, { keyId, limit, after }: ListBatchesOptions): Promise<BatchPage> {
  const size = Math.min(Math.max(Math.trunc(limit), 1), 100);
  const conditions: Prisma.Sql[] = [];
  if (keyId !== undefined) conditions.push(Prisma.sql`b.key_id = ${keyId}::uuid`);
  if (after !== undefined) {
    conditions.push(Prisma.sql`(b.created_at, b.id) < (SELECT a.created_at, a.id FROM batches a WHERE a.id = ${after})`);
  }
  const where = conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
  const found = await rows<BatchRow & { key_name: string }>(
    db,
    Prisma.sql`SELECT ${BATCH_COLUMNS}, k.name AS key_name
      FROM batches b JOIN api_keys k ON k.id = b.key_id ${BATCH_LIVE_COUNTS_JOIN}
      ${where}
      ORDER BY b.created_at DESC, b.id DESC
      LIMIT ${size + 1}`,
  );
  return {
    data: found.slice(0, size).map((row) => ({ batch: toBatchObject(row), key: { id: row.key_id, name: row.key_name } })),
    hasMore: found.length > size,
  };
}
