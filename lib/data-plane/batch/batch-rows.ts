// A `batches` row as SQL reads it, and its OpenAI Batch object. One column list for every reader, so the
// console's listing and the data plane's answers cannot drift apart.
import { Prisma } from "../../platform/db/generated/client";
import type { BatchErrorEntry, BatchObject, BatchStatus, BatchUsage } from "./shapes";

export interface BatchRow {
  id: string;
  key_id: string;
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  metadata: Record<string, string> | null;
  errors: BatchErrorEntry[] | null;
  output_file_id: string | null;
  error_file_id: string | null;
  total_count: number;
  completed_count: number;
  failed_count: number;
  usage: BatchUsage | null;
  created_at: Date;
  expires_at: Date;
  in_progress_at: Date | null;
  finalizing_at: Date | null;
  completed_at: Date | null;
  failed_at: Date | null;
  expired_at: Date | null;
  cancelling_at: Date | null;
  cancelled_at: Date | null;
  /** Counted from the jobs while the batch runs; null once the stored counts are final. */
  live_completed: number | null;
  live_failed: number | null;
}

/**
 * The columns of `batches b` plus live counts; join it with `BATCH_LIVE_COUNTS_JOIN`. The lateral count
 * runs only for batches still in progress (its filter on b.status is a one-time check per row).
 */
export const BATCH_COLUMNS = Prisma.sql`b.id, b.key_id::text AS key_id, b.endpoint, b.input_file_id, b.completion_window,
  b.status::text AS status, b.metadata, b.errors, b.output_file_id, b.error_file_id, b.total_count, b.completed_count,
  b.failed_count, b.usage, b.created_at, b.expires_at, b.in_progress_at, b.finalizing_at, b.completed_at, b.failed_at,
  b.expired_at, b.cancelling_at, b.cancelled_at, c.live_completed, c.live_failed`;

export const BATCH_LIVE_COUNTS_JOIN = Prisma.sql`LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE j.status = 'succeeded')::int AS live_completed,
         count(*) FILTER (WHERE j.status = 'failed')::int AS live_failed
  FROM batch_jobs j
  WHERE j.batch_id = b.id AND b.status IN ('in_progress', 'finalizing', 'cancelling')
) c ON b.status IN ('in_progress', 'finalizing', 'cancelling')`;

const seconds = (at: Date | null): number | undefined => (at ? Math.floor(at.getTime() / 1000) : undefined);

/** The OpenAI Batch object for a row; absent timestamps and files are left out, as OpenAI does. */
export function toBatchObject(row: BatchRow): BatchObject {
  const batch: BatchObject = {
    id: row.id,
    object: "batch",
    endpoint: row.endpoint,
    input_file_id: row.input_file_id,
    completion_window: row.completion_window,
    status: row.status,
    created_at: seconds(row.created_at)!,
    expires_at: seconds(row.expires_at),
    request_counts: {
      total: row.total_count,
      completed: row.live_completed ?? row.completed_count,
      failed: row.live_failed ?? row.failed_count,
    },
    metadata: row.metadata ?? null,
  };
  if (row.errors?.length) batch.errors = { object: "list", data: row.errors };
  if (row.output_file_id) batch.output_file_id = row.output_file_id;
  if (row.error_file_id) batch.error_file_id = row.error_file_id;
  if (row.usage) batch.usage = row.usage;
  const stamps = {
    in_progress_at: row.in_progress_at,
    finalizing_at: row.finalizing_at,
    completed_at: row.completed_at,
    failed_at: row.failed_at,
    expired_at: row.expired_at,
    cancelling_at: row.cancelling_at,
    cancelled_at: row.cancelled_at,
  } as const;
  for (const [name, at] of Object.entries(stamps)) {
    const value = seconds(at);
    if (value !== undefined) batch[name as keyof typeof stamps] = value;
  }
  return batch;
}
