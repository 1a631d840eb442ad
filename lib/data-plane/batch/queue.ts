// The job queue's statements. A claim takes a few jobs with FOR UPDATE SKIP LOCKED — queued ones in
// arrival order, and running ones whose holder's lease ran out (a crashed or stalled instance) — and
// puts them under this holder's lease, counting the claim in `attempts`. `attempts` is the claim's
// fencing token: a result is written only by the holder of the current claim of a still-running job,
// so a job taken over from a holder presumed dead gets exactly one result even if the old holder
// comes back and answers too (lib/platform/coordination/lease.ts uses the same idea for leases).
import { Prisma, rows, run, type Queryable } from "./sql";
import type { BatchOutputLine } from "./shapes";

export interface ClaimedJob {
  id: string;
  batchId: string;
  customId: string;
  body: Record<string, unknown>;
  /** This claim's fencing token. */
  attempt: number;
  keyId: string;
  endpoint: string;
  /** The batch was cancelled or its window ended: answer without running it. */
  stop: "cancelled" | "expired" | null;
}

/** Claims up to `limit` jobs for `owner`, leased for `leaseMs`. One statement (one short transaction). */
export async function claimJobs(db: Queryable, owner: string, limit: number, leaseMs: number): Promise<ClaimedJob[]> {
  const found = await rows<{
    id: string;
    batch_id: string;
    custom_id: string;
    body: Record<string, unknown>;
    attempts: number;
    key_id: string;
    endpoint: string;
    stop: ClaimedJob["stop"];
  }>(
    db,
    Prisma.sql`WITH stale AS (
        SELECT id FROM batch_jobs WHERE status = 'running' AND lease_expires_at < now()
        ORDER BY lease_expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), fresh AS (
        SELECT id FROM batch_jobs WHERE status = 'queued'
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
      ), picked AS (
        SELECT id FROM stale UNION ALL SELECT id FROM fresh LIMIT ${limit}
      )
      UPDATE batch_jobs j SET status = 'running', lease_owner = ${owner}, lease_expires_at = now() + ${leaseMs}::int * interval '1 millisecond',
        attempts = j.attempts + 1
      FROM picked p, batches b
      WHERE j.id = p.id AND b.id = j.batch_id
      RETURNING j.id::text, j.batch_id, j.custom_id, j.body, j.attempts, b.key_id::text, b.endpoint,
        CASE WHEN b.status = 'cancelling' THEN 'cancelled' WHEN b.expires_at < now() THEN 'expired' END AS stop`,
  );
  return found.map((r) => ({
    id: r.id,
    batchId: r.batch_id,
    customId: r.custom_id,
    body: r.body,
    attempt: r.attempts,
    keyId: r.key_id,
    endpoint: r.endpoint,
    stop: r.stop,
  }));
}

/** Extends the leases of jobs this holder still runs; returns the ids it still holds (the others were taken over). */
export async function renewLeases(
  db: Queryable,
  owner: string,
  jobs: { id: string; attempt: number }[],
  leaseMs: number,
): Promise<Set<string>> {
  if (jobs.length === 0) return new Set();
  const found = await rows<{ id: string }>(
    db,
    Prisma.sql`UPDATE batch_jobs j SET lease_expires_at = now() + ${leaseMs}::int * interval '1 millisecond'
      FROM unnest(${jobs.map((j) => j.id)}::bigint[], ${jobs.map((j) => j.attempt)}::int[]) AS h(id, attempt)
      WHERE j.id = h.id AND j.attempts = h.attempt AND j.status = 'running' AND j.lease_owner = ${owner}
      RETURNING j.id::text`,
  );
  return new Set(found.map((r) => r.id));
}

export type JobOutcome =
  | { status: "succeeded" | "failed"; response: BatchOutputLine["response"]; error: BatchOutputLine["error"] }
  | { status: "cancelled" | "expired" };

export interface FinishedJob {
  job: Pick<ClaimedJob, "id" | "attempt" | "batchId">;
  outcome: JobOutcome;
}

/**
 * Writes results, each only if its claim is still the current one (fenced by owner and attempt). The
 * owner stays on the row: who answered each line (per-instance throughput, and post-mortems).
 * Returns the jobs whose results were written; the others had been taken over and are dropped.
 */
export async function finishJobs(db: Queryable, owner: string, finished: FinishedJob[]): Promise<FinishedJob[]> {
  if (finished.length === 0) return [];
  const response = (f: FinishedJob) =>
    "response" in f.outcome && f.outcome.response ? JSON.stringify(f.outcome.response) : null;
  const error = (f: FinishedJob) => ("error" in f.outcome && f.outcome.error ? JSON.stringify(f.outcome.error) : null);
  const written = await rows<{ id: string }>(
    db,
    Prisma.sql`UPDATE batch_jobs j SET status = r.status::"BatchJobStatus", result = r.result, error = r.error, finished_at = now(),
        lease_expires_at = NULL
      FROM unnest(${finished.map((f) => f.job.id)}::bigint[], ${finished.map((f) => f.job.attempt)}::int[], ${finished.map((f) => f.outcome.status)}::text[],
        ${finished.map(response)}::jsonb[], ${finished.map(error)}::jsonb[]) AS r(id, attempt, status, result, error)
      WHERE j.id = r.id AND j.attempts = r.attempt AND j.status = 'running' AND j.lease_owner = ${owner}
      RETURNING j.id::text`,
  );
  const ids = new Set(written.map((r) => r.id));
  return finished.filter((f) => ids.has(f.job.id));
}

/**
 * Puts claimed jobs back in the queue (rate limited, a failed attempt to retry, or this instance is stopping).
 * Unless `countAttempt`, the claim is not counted against the job's attempts; the owner check keeps the
 * token safe (only this holder's own current claim is undone, and it writes nothing for it afterwards).
 */
export async function releaseJobs(
  db: Queryable,
  owner: string,
  jobs: Pick<ClaimedJob, "id" | "attempt">[],
  countAttempt = false,
): Promise<number> {
  if (jobs.length === 0) return 0;
  const attempts = countAttempt ? Prisma.sql`j.attempts` : Prisma.sql`GREATEST(j.attempts - 1, 0)`;
  return run(
    db,
    Prisma.sql`UPDATE batch_jobs j SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, attempts = ${attempts}
      FROM unnest(${jobs.map((j) => j.id)}::bigint[], ${jobs.map((j) => j.attempt)}::int[]) AS h(id, attempt)
      WHERE j.id = h.id AND j.attempts = h.attempt AND j.status = 'running' AND j.lease_owner = ${owner}`,
  );
}

/** Of these batches, the ones with no job queued or running any more (ready to finalize). */
export async function drainedBatches(db: Queryable, batchIds: string[]): Promise<string[]> {
  if (batchIds.length === 0) return [];
  const found = await rows<{ id: string }>(
    db,
    Prisma.sql`SELECT b.id FROM unnest(${batchIds}::text[]) AS b(id)
      WHERE NOT EXISTS (SELECT 1 FROM batch_jobs j WHERE j.batch_id = b.id AND j.status IN ('queued', 'running'))`,
  );
  return found.map((r) => r.id);
}
