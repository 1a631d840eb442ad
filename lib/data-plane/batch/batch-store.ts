// A batch's life in PostgreSQL: created (validating), validated into jobs (in_progress) or refused
// (failed), cancelled, and finalized once into its output and error files (completed, cancelled or
// expired). Each phase that must run once runs in a transaction holding the batch's row lock, taken
// with SKIP LOCKED: whoever gets the lock does the phase, a crash rolls it back and releases the
// lock, and the leader's sweep (lib/data-plane/batch/sweep.ts) takes up a phase that nobody holds.
import type pg from "pg";
import { ConflictError, NotFoundError } from "../../platform/errors";
import { withClient } from "../../platform/db/with-client";
import { BATCH_COLUMNS, BATCH_LIVE_COUNTS_JOIN, toBatchObject, type BatchRow } from "./batch-rows";
import { FileWriter, readFileContent } from "./file-store";
import { newBatchId } from "./ids";
import { parseInputLines } from "./input-lines";
import { BATCH_QUEUE_CHANNEL } from "./channel";
import type { BatchObject, BatchOutputLine, BatchStatus, BatchUsage } from "./shapes";
import { Prisma, rows, run, type Queryable } from "./sql";

export interface NewBatch {
  keyId: string;
  inputFileId: string;
  endpoint: string;
  completionWindowHours: number;
  metadata: Record<string, string> | null;
}

async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  });
}

/** A key's batch as OpenAI's object; null when the key has none by that id. */
export async function findBatch(db: Queryable, keyId: string, id: string): Promise<BatchObject | null> {
  const [row] = await rows<BatchRow>(
    db,
    Prisma.sql`SELECT ${BATCH_COLUMNS} FROM batches b ${BATCH_LIVE_COUNTS_JOIN} WHERE b.id = ${id} AND b.key_id = ${keyId}::uuid`,
  );
  return row ? toBatchObject(row) : null;
}

/** Records a batch to validate; the input file must be the key's own, uploaded for purpose "batch". */
export async function createBatch(db: Queryable, batch: NewBatch): Promise<BatchObject> {
  const [file] = await rows<{ purpose: string }>(
    db,
    Prisma.sql`SELECT purpose FROM batch_files WHERE id = ${batch.inputFileId} AND key_id = ${batch.keyId}::uuid`,
  );
  if (!file)
    throw new NotFoundError(`No such File object: ${batch.inputFileId}`, { param: "input_file_id", code: "file_not_found" });
  if (file.purpose !== "batch") {
    throw new ConflictError(`File ${batch.inputFileId} was not uploaded for purpose "batch".`, {
      param: "input_file_id",
      code: "invalid_file_purpose",
    });
  }
  const id = newBatchId();
  await run(
    db,
    Prisma.sql`INSERT INTO batches (id, key_id, endpoint, input_file_id, completion_window, metadata, expires_at)
      VALUES (${id}, ${batch.keyId}::uuid, ${batch.endpoint}, ${batch.inputFileId}, ${`${batch.completionWindowHours}h`},
              ${batch.metadata === null ? null : JSON.stringify(batch.metadata)}::jsonb, now() + ${batch.completionWindowHours}::int * interval '1 hour')`,
  );
  return (await findBatch(db, batch.keyId, id))!;
}

/** Bodies per INSERT when a batch's lines become jobs. */
const JOB_INSERT_GROUP = 2_000;

/**
 * Turns a validating batch's input file into queued jobs, or fails the batch with the file's line-numbered
 * errors. Does nothing when the batch is not validating or another instance is validating it.
 * Resolves to whether this call validated it.
 */
export async function validateBatch(pool: pg.Pool, id: string, maxLines: number): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const [batch] = await rows<{ key_id: string; endpoint: string; input_file_id: string }>(
      client,
      Prisma.sql`SELECT key_id::text, endpoint, input_file_id FROM batches WHERE id = ${id} AND status = 'validating' FOR UPDATE SKIP LOCKED`,
    );
    if (!batch) return false;
    const content = await readFileContent(client, batch.key_id, batch.input_file_id);
    const parsed = content
      ? parseInputLines(content.toString("utf8"), batch.endpoint, maxLines)
      : ({
          ok: false,
          errors: [{ code: "file_not_found", line: null, message: `The input file ${batch.input_file_id} was deleted.` }],
        } as const);
    if (!parsed.ok) {
      await run(
        client,
        Prisma.sql`UPDATE batches SET status = 'failed', failed_at = now(), errors = ${JSON.stringify(parsed.errors)}::jsonb WHERE id = ${id}`,
      );
      return true;
    }
    for (let at = 0; at < parsed.lines.length; at += JOB_INSERT_GROUP) {
      const group = parsed.lines.slice(at, at + JOB_INSERT_GROUP);
      await run(
        client,
        Prisma.sql`INSERT INTO batch_jobs (batch_id, line_no, custom_id, body)
          SELECT ${id}, l.line_no, l.custom_id, l.body FROM unnest(${group.map((l) => l.lineNo)}::int[], ${group.map((l) => l.customId)}::text[],
            ${group.map((l) => JSON.stringify(l.body))}::jsonb[]) AS l(line_no, custom_id, body)`,
      );
    }
    await run(
      client,
      Prisma.sql`UPDATE batches SET status = 'in_progress', in_progress_at = now(), total_count = ${parsed.lines.length} WHERE id = ${id}`,
    );
    // Delivered at commit: every instance's idle worker claims at once (its poll is the safety net).
    await run(client, Prisma.sql`SELECT pg_notify(${BATCH_QUEUE_CHANNEL}, ${id})`);
    return true;
  });
}

/**
 * Cancels a key's batch: no job of it is claimed from now on, its queued jobs are answered "cancelled",
 * and the jobs already running finish first (the batch stays cancelling until they have).
 */
export async function cancelBatch(db: Queryable, keyId: string, id: string): Promise<BatchObject> {
  const [row] = await rows<{ status: BatchStatus }>(
    db,
    Prisma.sql`SELECT status::text AS status FROM batches WHERE id = ${id} AND key_id = ${keyId}::uuid`,
  );
  if (!row) throw new NotFoundError(`No such Batch object: ${id}`, { param: "batch_id", code: "batch_not_found" });
  if (row.status === "validating" || row.status === "in_progress") {
    // One statement: the batch flips to cancelling and its queued jobs to cancelled together.
    await run(
      db,
      Prisma.sql`WITH flipped AS (
          UPDATE batches SET status = 'cancelling', cancelling_at = now()
          WHERE id = ${id} AND status IN ('validating', 'in_progress') RETURNING id)
        UPDATE batch_jobs SET status = 'cancelled', finished_at = now()
        WHERE batch_id = (SELECT id FROM flipped) AND status = 'queued'`,
    );
  } else if (row.status !== "cancelling" && row.status !== "cancelled") {
    throw new ConflictError(`Batch ${id} is ${row.status}: it can no longer be cancelled.`, { code: "batch_not_cancellable" });
  }
  return (await findBatch(db, keyId, id))!;
}

/** Marks queued jobs of batches past their completion window expired; returns the batches touched. */
export async function expireOverdueBatches(db: Queryable): Promise<string[]> {
  const found = await rows<{ batch_id: string }>(
    db,
    Prisma.sql`UPDATE batch_jobs j SET status = 'expired', finished_at = now()
      FROM batches b
      WHERE b.id = j.batch_id AND b.status = 'in_progress' AND b.expires_at < now() AND j.status = 'queued'
      RETURNING j.batch_id`,
  );
  return [...new Set(found.map((r) => r.batch_id))];
}

interface JobOutcomeRow {
  id: string;
  custom_id: string;
  status: "succeeded" | "failed" | "cancelled" | "expired";
  result: BatchOutputLine["response"];
  error: BatchOutputLine["error"];
}

const STOP_ERRORS = {
  cancelled: { code: "batch_cancelled", message: "The batch was cancelled before this request ran." },
  expired: { code: "batch_expired", message: "The batch's completion window ended before this request ran." },
} as const;

function outputLine(job: JobOutcomeRow): BatchOutputLine {
  const error = job.status === "cancelled" || job.status === "expired" ? STOP_ERRORS[job.status] : job.error;
  return {
    id: `batch_req_${job.id.padStart(12, "0")}`,
    custom_id: job.custom_id,
    response: job.result ?? null,
    error: error ?? null,
  };
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
}

function addUsage(total: BatchUsage, body: unknown): void {
  const usage = (body as { usage?: Usage } | null)?.usage;
  if (!usage) return;
  const input = usage.prompt_tokens ?? usage.input_tokens ?? 0;
  const output = usage.completion_tokens ?? usage.output_tokens ?? 0;
  total.input_tokens += input;
  total.output_tokens += output;
  total.total_tokens += usage.total_tokens ?? input + output;
}

/** Jobs read per page while finalizing. */
const FINALIZE_PAGE = 2_000;

const jsonl = (lines: BatchOutputLine[]) => Buffer.from(lines.map((line) => JSON.stringify(line)).join("\n") + "\n", "utf8");

/**
 * Once no job of the batch is queued or running: shows it finalizing, then in one transaction writes the
 * output file (answered lines) and the error file (everything else), and sets the final status. Safe to
 * call any number of times from anywhere; resolves to the final status when this call finalized it.
 */
export async function finalizeBatch(pool: pg.Pool, id: string): Promise<BatchStatus | null> {
  // A short step of its own, so clients see "finalizing" while the files are written.
  await run(
    pool,
    Prisma.sql`UPDATE batches SET status = 'finalizing', finalizing_at = now()
      WHERE id = ${id} AND status = 'in_progress'
        AND NOT EXISTS (SELECT 1 FROM batch_jobs WHERE batch_id = ${id} AND status IN ('queued', 'running'))`,
  );
  return inTransaction(pool, async (client) => {
    const [batch] = await rows<{ key_id: string; status: BatchStatus }>(
      client,
      Prisma.sql`SELECT key_id::text, status::text AS status FROM batches
        WHERE id = ${id} AND status IN ('finalizing', 'cancelling') FOR UPDATE SKIP LOCKED`,
    );
    if (!batch) return null;
    const [pending] = await rows<{ n: number }>(
      client,
      Prisma.sql`SELECT count(*)::int AS n FROM batch_jobs WHERE batch_id = ${id} AND status IN ('queued', 'running')`,
    );
    if (pending!.n > 0) return null;
    // Page by line number, writing as it goes: memory holds one page, not the whole output.
    const files = { output: undefined as FileWriter | undefined, errors: undefined as FileWriter | undefined };
    const writerFor = async (kind: "output" | "errors") =>
      (files[kind] ??= await FileWriter.open(client, {
        keyId: batch.key_id,
        purpose: "batch_output",
        filename: `${id}_${kind === "output" ? "output" : "error"}.jsonl`,
      }));
    const usage: BatchUsage = {
      input_tokens: 0,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 0,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 0,
    };
    let answered = 0;
    let failed = 0;
    let expired = false;
    for (let after = 0; ;) {
      const page = await rows<JobOutcomeRow & { line_no: number }>(
        client,
        Prisma.sql`SELECT id::text, line_no, custom_id, status::text AS status, result, error FROM batch_jobs
          WHERE batch_id = ${id} AND line_no > ${after} ORDER BY line_no LIMIT ${FINALIZE_PAGE}`,
      );
      if (page.length === 0) break;
      after = page.at(-1)!.line_no;
      const good = page.filter((job) => job.status === "succeeded");
      const bad = page.filter((job) => job.status !== "succeeded");
      for (const job of good) addUsage(usage, job.result?.body);
      if (bad.some((job) => job.status === "expired")) expired = true;
      if (good.length) await (await writerFor("output")).write(jsonl(good.map(outputLine)));
      if (bad.length) await (await writerFor("errors")).write(jsonl(bad.map(outputLine)));
      answered += good.length;
      failed += bad.length;
    }
    const output = await files.output?.close();
    const errors = await files.errors?.close();
    const status: BatchStatus = batch.status === "cancelling" ? "cancelled" : expired ? "expired" : "completed";
    const stamp = Prisma.raw(status === "cancelled" ? "cancelled_at" : status === "expired" ? "expired_at" : "completed_at");
    await run(
      client,
      Prisma.sql`UPDATE batches SET status = ${status}::"BatchStatus", ${stamp} = now(), output_file_id = ${output?.id ?? null},
        error_file_id = ${errors?.id ?? null}, completed_count = ${answered}, failed_count = ${failed},
        usage = ${answered ? JSON.stringify(usage) : null}::jsonb
        WHERE id = ${id}`,
    );
    return status;
  });
}

/** Batches whose phase nobody is working on: validating, or with every job done but not finalized. */
export async function batchesAwaitingPhase(db: Queryable): Promise<{ validating: string[]; finalizable: string[] }> {
  const found = await rows<{ id: string; status: BatchStatus }>(
    db,
    Prisma.sql`SELECT b.id, b.status::text AS status FROM batches b
      WHERE b.status = 'validating'
         OR (b.status IN ('in_progress', 'finalizing', 'cancelling')
             AND NOT EXISTS (SELECT 1 FROM batch_jobs j WHERE j.batch_id = b.id AND j.status IN ('queued', 'running')))
      ORDER BY b.created_at LIMIT 100`,
  );
  return {
    validating: found.filter((b) => b.status === "validating").map((b) => b.id),
    finalizable: found.filter((b) => b.status !== "validating").map((b) => b.id),
  };
}
