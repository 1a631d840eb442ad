// The Batches page's endpoint: the fleet's queue now, who fills it (queued and running jobs per API
// key), and the batches newest first (optionally one key's), from the Batch API's own readers.
// Each part on its own, so a failing one leaves the others standing.
import { listBatches, readQueueStats, type ListedBatch } from "../../data-plane/batch/queue-stats";
import { getDatabase, type Queryable } from "../../platform/db/client";
import { Prisma } from "../../platform/db/generated/client";
import { batchesQuery, type BatchDto, type BatchesResponse, type KeyQueueDto } from "./batch-contracts";
import { consoleHandler } from "./handler";

function reason(what: string, error: unknown): { error: string } {
  const message = (error as Error)?.message ?? String(error);
  console.error(JSON.stringify({ level: 40, time: Date.now(), msg: `console ${what} query failed`, err: message }));
  return { error: `Could not read ${what}: ${message}` };
}

const ms = (seconds: number | undefined) => (seconds === undefined ? null : seconds * 1_000);

function toBatchDto({ batch, key }: ListedBatch): BatchDto {
  const ended = batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at;
  return {
    id: batch.id,
    status: batch.status,
    endpoint: batch.endpoint,
    key,
    requestCounts: batch.request_counts,
    createdAt: batch.created_at * 1_000,
    endedAt: ms(ended),
    expiresAt: ms(batch.expires_at),
    outputFileId: batch.output_file_id ?? null,
    errorFileId: batch.error_file_id ?? null,
    errors: batch.errors?.data.length ?? 0,
  };
}

/** Queued and running jobs by owning key, busiest first (the queue's partial indexes bound the walk). */
async function readQueueByKey(db: Queryable, limit = 20): Promise<KeyQueueDto[]> {
  const statement = Prisma.sql`
    SELECT b.key_id::text AS key_id, k.name AS key_name,
           count(*) FILTER (WHERE j.status = 'queued')::int AS queued,
           count(*) FILTER (WHERE j.status = 'running')::int AS running,
           count(DISTINCT b.id)::int AS batches
    FROM batch_jobs j JOIN batches b ON b.id = j.batch_id JOIN api_keys k ON k.id = b.key_id
    WHERE j.status IN ('queued', 'running')
    GROUP BY b.key_id, k.name
    ORDER BY count(*) DESC, k.name
    LIMIT ${limit}`;
  const { rows } = await db.query<{ key_id: string; key_name: string; queued: number; running: number; batches: number }>(
    statement.text,
    statement.values,
  );
  return rows.map((r) => ({ keyId: r.key_id, keyName: r.key_name, queued: r.queued, running: r.running, batches: r.batches }));
}

// GET /api/console/batches?keyId=&limit=&after= — the queue, its owners, and a page of batches.
export const getBatches = consoleHandler(
  { scope: "batches.read", query: batchesQuery },
  async ({ query }): Promise<BatchesResponse> => {
    const { pool } = getDatabase();
    const [queue, byKey, batches] = await Promise.all([
      readQueueStats(pool).catch((error: unknown) => reason("the batch queue", error)),
      readQueueByKey(pool)
        .then((keys) => ({ keys }))
        .catch((error: unknown) => reason("the queue by key", error)),
      listBatches(pool, { keyId: query.keyId, limit: query.limit, after: query.after })
        .then((page) => ({
          data: page.data.map(toBatchDto),
          hasMore: page.hasMore,
          nextAfter: page.hasMore ? (page.data.at(-1)?.batch.id ?? null) : null,
        }))
        .catch((error: unknown) => reason("the batches", error)),
    ]);
    return { queue, byKey, batches };
  },
);
