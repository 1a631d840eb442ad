// The batch job queue's statements against a real PostgreSQL: claims that never hand one job to two
// holders, a crashed holder's jobs claimed again after its lease, results fenced so a job taken over
// gets exactly one, finalization once, and the queue figures and listing the console reads.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createBatch, finalizeBatch, validateBatch } from "../../lib/data-plane/batch/batch-store";
import { randomBytes } from "node:crypto";
import { CHUNK_BYTES, FileWriter, readFileContent, saveFile } from "../../lib/data-plane/batch/file-store";
import { sweepBatches } from "../../lib/data-plane/batch/sweep";
import { claimJobs, finishJobs, releaseJobs, renewLeases, type ClaimedJob } from "../../lib/data-plane/batch/queue";
import { listBatches, readQueueStats } from "../../lib/data-plane/batch/queue-stats";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { chatLines, toJsonl } from "../helpers/batch-files";
import { unique } from "../helpers/gateway-fixture";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

// A database of its own: servers started by other test files run batch workers on the shared one,
// and would claim this file's jobs.
let scratch: ScratchDatabase;
let db: Database;
let keyId: string;
let keyName: string;

const ok = (job: ClaimedJob) => ({
  job,
  outcome: {
    status: "succeeded" as const,
    response: { status_code: 200, request_id: `r-${job.id}`, body: { ok: true } },
    error: null,
  },
});

async function batchOf(lines: number): Promise<string> {
  const file = await saveFile(db.pool, {
    keyId,
    purpose: "batch",
    filename: "in.jsonl",
    content: Buffer.from(toJsonl(chatLines(lines, "m"))),
  });
  const batch = await createBatch(db.pool, {
    keyId,
    inputFileId: file.id,
    endpoint: "/v1/chat/completions",
    completionWindowHours: 24,
    metadata: null,
  });
  expect(await validateBatch(db.pool, batch.id, 1_000)).toBe(true);
  return batch.id;
}

/** Claims everything queued (for tests that must not see other tests' jobs: each runs its queue empty first). */
async function drainQueue(owner: string): Promise<void> {
  for (;;) {
    const jobs = await claimJobs(db.pool, owner, 500, 60_000);
    if (jobs.length === 0) return;
    await finishJobs(db.pool, owner, jobs.map(ok));
  }
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_batch_queue_${Date.now()}_${process.pid}`, { migrate: true });
  db = createDatabase({ url: scratch.url, poolMax: 4 });
  keyName = unique("queue-key");
  keyId = (await createApiKey(db.prisma, { name: keyName })).record.id;
});

afterAll(async () => {
  await db?.close();
  await scratch?.drop();
});

describe("batch queue", () => {
  it("hands each job to exactly one of many concurrent claimers", async () => {
    await drainQueue("cleanup");
    const batchId = await batchOf(300);
    const claimers = Array.from({ length: 8 }, (_, i) => `claimer-${i}`);
    const claimed = new Map<string, string>();
    await Promise.all(
      claimers.map(async (owner) => {
        for (;;) {
          const jobs = await claimJobs(db.pool, owner, 7, 60_000);
          if (jobs.length === 0) return;
          for (const job of jobs) {
            expect(claimed.has(job.id), `job ${job.id} claimed twice`).toBe(false);
            claimed.set(job.id, owner);
          }
          expect(await finishJobs(db.pool, owner, jobs.map(ok))).toHaveLength(jobs.length);
        }
      }),
    );
    expect(claimed.size).toBe(300);
    expect(await finalizeBatch(db.pool, batchId)).toBe("completed");
    // Finalization happens once: later calls find nothing to do.
    expect(await finalizeBatch(db.pool, batchId)).toBeNull();
    const { rows } = await db.pool.query(
      `SELECT count(DISTINCT custom_id)::int AS n, count(*)::int AS total FROM batch_jobs WHERE batch_id = $1 AND status = 'succeeded'`,
      [batchId],
    );
    expect(rows[0]).toEqual({ n: 300, total: 300 });
  });

  it("claims a dead holder's jobs again after its lease, and refuses the old holder's late result", async () => {
    await drainQueue("cleanup");
    const batchId = await batchOf(3);
    const dead = await claimJobs(db.pool, "dead-holder", 3, 300);
    expect(dead).toHaveLength(3);
    expect(await claimJobs(db.pool, "survivor", 3, 60_000)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const taken = await claimJobs(db.pool, "survivor", 3, 60_000);
    expect(taken.map((j) => j.id).sort()).toEqual(dead.map((j) => j.id).sort());
    expect(taken.every((j) => j.attempt === 2)).toBe(true);
    // The presumed-dead holder comes back and answers: fenced out, and it cannot renew either.
    expect(await finishJobs(db.pool, "dead-holder", dead.map(ok))).toEqual([]);
    expect((await renewLeases(db.pool, "dead-holder", dead, 60_000)).size).toBe(0);
    expect(await renewLeases(db.pool, "survivor", taken, 60_000)).toEqual(new Set(taken.map((j) => j.id)));
    expect(await finishJobs(db.pool, "survivor", taken.map(ok))).toHaveLength(3);
    // A second result for the same claim is refused too.
    expect(await finishJobs(db.pool, "survivor", taken.map(ok))).toEqual([]);
    const { rows } = await db.pool.query(
      `SELECT lease_owner, result->>'request_id' AS request_id FROM batch_jobs WHERE batch_id = $1 ORDER BY line_no`,
      [batchId],
    );
    expect(rows).toEqual(
      taken.sort((a, b) => Number(a.id) - Number(b.id)).map((j) => ({ lease_owner: "survivor", request_id: `r-${j.id}` })),
    );
  });

  it("puts released jobs back without counting the claim, and reports queue figures", async () => {
    await drainQueue("cleanup");
    await batchOf(5);
    const before = await readQueueStats(db.pool);
    expect(before).toMatchObject({ queued: 5, running: 0 });
    expect(before.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(0);
    const jobs = await claimJobs(db.pool, "worker", 2, 60_000);
    expect(await readQueueStats(db.pool)).toMatchObject({ queued: 3, running: 2 });
    expect(await releaseJobs(db.pool, "other-worker", jobs)).toBe(0);
    expect(await releaseJobs(db.pool, "worker", jobs)).toBe(2);
    const again = await claimJobs(db.pool, "worker", 5, 60_000);
    expect(again.filter((j) => jobs.some((k) => k.id === j.id)).every((j) => j.attempt === 1)).toBe(true);
    await finishJobs(db.pool, "worker", again.map(ok));
    expect(await readQueueStats(db.pool)).toEqual({ queued: 0, running: 0, oldestQueuedAgeSeconds: null });
  });

  it("lists batches newest first with their key, live counts while running, pages by after", async () => {
    await drainQueue("cleanup");
    const older = await batchOf(2);
    const newer = await batchOf(2);
    const [job] = await claimJobs(db.pool, "worker", 1, 60_000);
    await finishJobs(db.pool, "worker", [ok(job!)]);
    const page = await listBatches(db.pool, { keyId, limit: 1 });
    expect(page.hasMore).toBe(true);
    expect(page.data).toHaveLength(1);
    expect(page.data[0]!.key).toEqual({ id: keyId, name: keyName });
    expect(page.data[0]!.batch.id).toBe(newer);
    const next = await listBatches(db.pool, { keyId, limit: 1, after: newer });
    expect(next.data[0]!.batch.id).toBe(older);
    const counts = Object.fromEntries(
      (await listBatches(db.pool, { keyId, limit: 2 })).data.map((b) => [b.batch.id, b.batch.request_counts]),
    );
    expect(counts[older]).toEqual({ total: 2, completed: 1, failed: 0 });
    expect(counts[newer]).toEqual({ total: 2, completed: 0, failed: 0 });
    expect((await listBatches(db.pool, { limit: 100 })).data.some((b) => b.batch.id === older)).toBe(true);
    await drainQueue("cleanup");
  });

  it("expires a batch past its window (answered lines kept, the rest batch_expired) and takes up phases nobody holds", async () => {
    await drainQueue("cleanup");
    await sweepBatches(db.pool, 1_000); // earlier tests' batches, all answered, end here
    const expiring = await batchOf(4);
    const [first] = await claimJobs(db.pool, "worker", 1, 60_000);
    await finishJobs(db.pool, "worker", [ok(first!)]);
    const [second] = await claimJobs(db.pool, "worker", 1, 60_000);
    await db.pool.query(`UPDATE batches SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring]);
    // A batch whose instance died while validating it, and one whose last result was written but not finalized.
    const file = await saveFile(db.pool, {
      keyId,
      purpose: "batch",
      filename: "in.jsonl",
      content: Buffer.from(toJsonl(chatLines(2, "m"))),
    });
    const unvalidated = (
      await createBatch(db.pool, {
        keyId,
        inputFileId: file.id,
        endpoint: "/v1/chat/completions",
        completionWindowHours: 24,
        metadata: null,
      })
    ).id;

    expect(await sweepBatches(db.pool, 1_000)).toEqual({ expired: 1, validated: 1, finalized: 0 });
    // The line still running when the window ended is answered by its holder, then the batch can end.
    await finishJobs(db.pool, "worker", [ok(second!)]);
    const rest = await claimJobs(db.pool, "worker", 10, 60_000);
    expect(rest.map((j) => j.batchId)).toEqual([unvalidated, unvalidated]);
    await finishJobs(db.pool, "worker", rest.map(ok));
    expect(await sweepBatches(db.pool, 1_000)).toEqual({ expired: 0, validated: 0, finalized: 2 });

    const [row] = (
      await db.pool.query(
        `SELECT status::text, completed_count, failed_count, output_file_id, error_file_id FROM batches WHERE id = $1`,
        [expiring],
      )
    ).rows;
    expect(row).toMatchObject({ status: "expired", completed_count: 2, failed_count: 2 });
    const errors = (await readFileContent(db.pool, keyId, row.error_file_id))!
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(errors.map((e) => e.error.code)).toEqual(["batch_expired", "batch_expired"]);
    expect(errors.every((e) => e.response === null)).toBe(true);
    expect((await readFileContent(db.pool, keyId, row.output_file_id))!.toString().trim().split("\n")).toHaveLength(2);
    expect((await db.pool.query(`SELECT status::text FROM batches WHERE id = $1`, [unvalidated])).rows[0].status).toBe(
      "completed",
    );
  });

  it("stores files in 1 MiB chunks and reads back exactly what was written, whole or piece by piece", async () => {
    const content = randomBytes(2 * CHUNK_BYTES + 12_345);
    const saved = await saveFile(db.pool, { keyId, purpose: "batch", filename: "big.bin", content });
    expect(saved.bytes).toBe(content.length);
    expect((await readFileContent(db.pool, keyId, saved.id))!.equals(content)).toBe(true);
    expect(
      (await db.pool.query(`SELECT count(*)::int AS n FROM batch_file_chunks WHERE file_id = $1`, [saved.id])).rows[0].n,
    ).toBe(3);

    const client = await db.pool.connect();
    try {
      await client.query("BEGIN");
      const writer = await FileWriter.open(client, { keyId, purpose: "batch_output", filename: "pieces.jsonl" });
      for (let at = 0; at < content.length; at += 70_001) await writer.write(content.subarray(at, at + 70_001));
      const written = await writer.close();
      await client.query("COMMIT");
      expect(written).toMatchObject({ bytes: content.length, purpose: "batch_output", filename: "pieces.jsonl" });
      expect((await readFileContent(db.pool, keyId, written.id))!.equals(content)).toBe(true);
    } finally {
      client.release();
    }
    expect(await readFileContent(db.pool, "00000000-0000-4000-8000-000000000000", saved.id)).toBeNull();
  });
});
