// The Batch API through a real server, driven by the official openai SDK: files.create,
// batches.create/retrieve/list/cancel, files.content. Lines run on the built-in simulator.
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayFixture, eventually, unique } from "../helpers/gateway-fixture";
import { chatLines, parseJsonl, toJsonl, type OutputLine } from "../helpers/batch-files";
import type { ServerProcess } from "../helpers/server-process";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { batchBudgetId } from "../../lib/data-plane/batch/internal-auth";

// A database of its own: servers of other test files run batch workers too, and would claim (and, when
// their test ends, abandon for a lease period) this file's jobs.
let scratch: ScratchDatabase;
let fixture: GatewayFixture;
let server: ServerProcess;
let keyA: string;
let keyB: string;
const model = unique("sim");
const slow = unique("sim-slow");
const MAX_FILE_BYTES = 200_000;

const client = (apiKey = keyA, prefix = "/v1") =>
  new OpenAI({ apiKey, baseURL: `${server.url}${prefix}`, maxRetries: 0, timeout: 20_000 });

async function upload(lines: unknown[] | string, apiKey = keyA) {
  const text = typeof lines === "string" ? lines : toJsonl(lines);
  return client(apiKey).files.create({ file: await toFile(Buffer.from(text), "input.jsonl"), purpose: "batch" });
}

async function settled(id: string, apiKey = keyA, timeoutMs = 30_000) {
  let batch = await client(apiKey).batches.retrieve(id);
  await eventually(
    async () => {
      batch = await client(apiKey).batches.retrieve(id);
      return ["completed", "failed", "expired", "cancelled"].includes(batch.status);
    },
    timeoutMs,
    100,
  );
  return batch;
}

async function lines(fileId: string | null | undefined, apiKey = keyA): Promise<OutputLine[]> {
  if (!fileId) return [];
  return parseJsonl(await (await client(apiKey).files.content(fileId)).text());
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_batch_api_${Date.now()}_${process.pid}`, { migrate: true });
  fixture = new GatewayFixture(scratch.url);
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator"),
    deployments: [{ modelName: model, upstreamModel: "sim" }],
  });
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator-slow"),
    settings: { latencyMs: { median: 400, p99: 400 }, tokensPerSecond: 0, errorRate: 0 },
    deployments: [{ modelName: slow, upstreamModel: "sim" }],
  });
  keyA = (await fixture.addKey()).key;
  keyB = (await fixture.addKey()).key;
  server = await fixture.startServer({
    env: { BATCH_FILE_MAX_BYTES: String(MAX_FILE_BYTES), WORKER_CONCURRENCY: "4", BATCH_POLL_MAX_MS: "200" },
  });
});

afterAll(async () => {
  await fixture?.close();
  await scratch?.drop();
});

describe("files", () => {
  it.each(["/v1", "/api/v1"])("uploads, retrieves, reads and deletes a batch file under %s", async (prefix) => {
    const text = toJsonl(chatLines(3, model));
    const created = await client(keyA, prefix).files.create({
      file: await toFile(Buffer.from(text), "three.jsonl"),
      purpose: "batch",
    });
    expect(created).toMatchObject({
      object: "file",
      bytes: Buffer.byteLength(text),
      filename: "three.jsonl",
      purpose: "batch",
      status: "processed",
    });
    expect(created.id).toMatch(/^file-/);
    expect(await client(keyA, prefix).files.retrieve(created.id)).toEqual(created);
    expect(await (await client(keyA, prefix).files.content(created.id)).text()).toBe(text);
    const listed = await client(keyA, prefix).files.list();
    expect(listed.data.map((f) => f.id)).toContain(created.id);
    expect(await client(keyA, prefix).files.delete(created.id)).toEqual({ id: created.id, object: "file", deleted: true });
    await expect(client(keyA, prefix).files.retrieve(created.id)).rejects.toMatchObject({ status: 404, code: "file_not_found" });
  });

  it("refuses a purpose other than batch, a missing file and a file over BATCH_FILE_MAX_BYTES, in OpenAI's error shape", async () => {
    await expect(
      client().files.create({ file: await toFile(Buffer.from("{}\n"), "x.jsonl"), purpose: "fine-tune" }),
    ).rejects.toMatchObject({
      status: 400,
      param: "purpose",
      code: "invalid_purpose",
    });
    const big = Buffer.alloc(MAX_FILE_BYTES + 1, "a");
    await expect(client().files.create({ file: await toFile(big, "big.jsonl"), purpose: "batch" })).rejects.toMatchObject({
      status: 413,
      code: "file_too_large",
    });
    const form = new FormData();
    form.set("purpose", "batch");
    const response = await fetch(`${server.url}/v1/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${keyA}` },
      body: form,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { message: expect.stringContaining("'file'"), type: "invalid_request_error", param: "file", code: "missing_file" },
    });
    const json = await fetch(`${server.url}/v1/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${keyA}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(json.status).toBe(400);
    expect((await json.json()).error.code).toBe("invalid_content_type");
  });

  it("shows a key only its own files", async () => {
    const file = await upload(chatLines(1, model));
    await expect(client(keyB).files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(client(keyB).files.content(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(client(keyB).files.delete(file.id)).rejects.toMatchObject({ status: 404 });
    expect((await client(keyB).files.list()).data.map((f) => f.id)).not.toContain(file.id);
    expect(await client(keyA).files.retrieve(file.id)).toMatchObject({ id: file.id });
  });
});

describe("batches", () => {
  it("spends a key's rate limit from a batch budget of its own, never the live one", async () => {
    const limited = await fixture.addKey({ rpmLimit: 1_000 });
    // A key created now reaches the server's key table by NOTIFY, a moment later.
    await eventually(
      async () => (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${limited.key}` } })).ok,
      5_000,
    );
    const batch = await client(limited.key).batches.create({
      input_file_id: (await upload(chatLines(5, model), limited.key)).id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    expect((await settled(batch.id, limited.key)).request_counts).toEqual({ total: 5, completed: 5, failed: 0 });
    const budgets = async () =>
      (
        await fixture.database.pool.query<{ key_id: string }>(
          `SELECT DISTINCT key_id::text FROM rate_limit_windows WHERE key_id::text LIKE $1`,
          [`${limited.record.id.slice(0, 18)}%`],
        )
      ).rows.map((r) => r.key_id);
    expect(await budgets()).toEqual([batchBudgetId(limited.record.id)]);
    await client(limited.key).chat.completions.create({ model, messages: [{ role: "user", content: "live" }] });
    expect((await budgets()).sort()).toEqual([limited.record.id, batchBudgetId(limited.record.id)].sort());
  });

  it("refuses a request that presents a batch credential it did not get from the process", async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-agenticorp-batch-token": "forged",
        "x-agenticorp-batch-key": "00000000-0000-4000-8000-000000000000",
      },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(401);
    expect((await response.json()).error.type).toBe("authentication_error");
  });

  it("runs a chat batch to completion: every custom_id answered once, bad requests in the error file", async () => {
    const good = chatLines(40, model);
    const unknownModel = {
      custom_id: "bad-model",
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "no-such-model", messages: [{ role: "user", content: "hi" }] },
    };
    const badParams = {
      custom_id: "bad-params",
      method: "POST",
      url: "/v1/chat/completions",
      body: { model, messages: "not a list" },
    };
    const file = await upload([...good.slice(0, 20), unknownModel, ...good.slice(20), badParams]);
    const created = await client().batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { run: "one" },
    });
    expect(created).toMatchObject({
      object: "batch",
      endpoint: "/v1/chat/completions",
      input_file_id: file.id,
      completion_window: "24h",
      status: "validating",
      metadata: { run: "one" },
    });
    expect(created.id).toMatch(/^batch_/);
    expect(created.expires_at! - created.created_at).toBe(24 * 3600);

    const done = await settled(created.id);
    expect(done).toMatchObject({ status: "completed", request_counts: { total: 42, completed: 40, failed: 2 } });
    expect(done.in_progress_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.finalizing_at).toBeGreaterThanOrEqual(done.in_progress_at!);
    expect(done.completed_at).toBeGreaterThanOrEqual(done.finalizing_at!);
    expect(done.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number) });
    expect(done.usage!.total_tokens).toBeGreaterThan(0);

    const output = await lines(done.output_file_id);
    const errors = await lines(done.error_file_id);
    expect(output.map((l) => l.custom_id).sort()).toEqual(good.map((l) => l.custom_id).sort());
    expect(errors.map((l) => l.custom_id).sort()).toEqual(["bad-model", "bad-params"]);
    for (const line of output) {
      expect(line).toEqual({
        id: expect.stringMatching(/^batch_req_/),
        custom_id: line.custom_id,
        response: {
          status_code: 200,
          request_id: expect.any(String),
          body: expect.objectContaining({ object: "chat.completion", model }),
        },
        error: null,
      });
    }
    expect(errors.find((l) => l.custom_id === "bad-model")!.response).toMatchObject({
      status_code: 404,
      body: { error: { code: "model_not_found" } },
    });
    expect(errors.find((l) => l.custom_id === "bad-params")!.response).toMatchObject({
      status_code: 400,
      body: { error: { type: "invalid_request_error" } },
    });
    // Each line's access line says it was a batch line, under its batch request id; live lines say nothing. An access
    // line is written once its response has ended and arrives through the child's stdout, so the last few may land
    // after the batch reads completed: wait for them (bounded), then check them all.
    const access = () => server.logs.filter((l) => l.msg === "request completed" && l.route === "/v1/chat/completions");
    const batchLines = () => access().filter((l) => l.batch === true && String(l.request_id).startsWith("batch_req_"));
    await eventually(async () => batchLines().length >= 42).catch(() => undefined);
    expect(batchLines().length).toBeGreaterThanOrEqual(42);
    expect(access().every((l) => l.batch === true || l.batch === undefined)).toBe(true);
    const outputFile = await client().files.retrieve(done.output_file_id!);
    expect(outputFile).toMatchObject({ purpose: "batch_output", status: "processed" });
  });

  it("runs embeddings and responses batches", async () => {
    const embeddings = [0, 1, 2].map((i) => ({
      custom_id: `e${i}`,
      method: "POST",
      url: "/v1/embeddings",
      body: { model, input: `text ${i}` },
    }));
    const responses = [0, 1].map((i) => ({
      custom_id: `r${i}`,
      method: "POST",
      url: "/v1/responses",
      body: { model, input: `hello ${i}` },
    }));
    const e = await client().batches.create({
      input_file_id: (await upload(embeddings)).id,
      endpoint: "/v1/embeddings",
      completion_window: "24h",
    });
    const r = await client().batches.create({
      input_file_id: (await upload(responses)).id,
      endpoint: "/v1/responses",
      completion_window: "24h",
    });
    const [eDone, rDone] = await Promise.all([settled(e.id), settled(r.id)]);
    expect(eDone.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(rDone.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect((await lines(eDone.output_file_id))[0]!.response!.body).toMatchObject({
      object: "list",
      data: [expect.objectContaining({ object: "embedding" })],
    });
    expect((await lines(rDone.output_file_id))[0]!.response!.body).toMatchObject({ object: "response", status: "completed" });
  });

  it("refuses an invalid file at validation, naming the bad lines", async () => {
    const text = [
      JSON.stringify(chatLines(1, model)[0]),
      "{not json",
      JSON.stringify({ method: "POST", url: "/v1/chat/completions", body: { model } }),
      JSON.stringify({ ...chatLines(1, model)[0], custom_id: "other", url: "/v1/embeddings" }),
      JSON.stringify(chatLines(1, model)[0]),
    ].join("\n");
    const batch = await client().batches.create({
      input_file_id: (await upload(text)).id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const failed = await settled(batch.id);
    expect(failed.status).toBe("failed");
    expect(failed.failed_at).toBeGreaterThan(0);
    expect(failed.errors!.data!.map((e) => [e.line, e.code])).toEqual([
      [2, "invalid_json_line"],
      [3, "missing_required_parameter"],
      [4, "mismatched_url"],
      [5, "duplicate_custom_id"],
    ]);
    expect(failed.request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
  });

  it("refuses bad create requests with the offending field", async () => {
    const file = await upload(chatLines(1, model));
    await expect(
      client().batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "48h" as "24h" }),
    ).rejects.toMatchObject({ status: 400, param: "completion_window" });
    await expect(
      client().batches.create({ input_file_id: file.id, endpoint: "/v1/moderations", completion_window: "24h" }),
    ).rejects.toMatchObject({ status: 400, param: "endpoint" });
    await expect(
      client().batches.create({ input_file_id: "file-nope", endpoint: "/v1/chat/completions", completion_window: "24h" }),
    ).rejects.toMatchObject({ status: 404, param: "input_file_id" });
    await expect(
      client(keyB).batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(client().batches.retrieve("batch_nope")).rejects.toMatchObject({ status: 404, code: "batch_not_found" });
  });

  it("shows a key only its own batches, listed newest first with pagination", async () => {
    const file = await upload(chatLines(1, model));
    const first = await client().batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const second = await client().batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await expect(client(keyB).batches.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    await expect(client(keyB).batches.cancel(first.id)).rejects.toMatchObject({ status: 404 });
    expect((await client(keyB).batches.list()).data.map((b) => b.id)).not.toContain(first.id);
    const page = await client().batches.list({ limit: 1 });
    expect(page.data.map((b) => b.id)).toEqual([second.id]);
    expect(page.has_more).toBe(true);
    const next = await client().batches.list({ limit: 1, after: second.id });
    expect(next.data.map((b) => b.id)).toEqual([first.id]);
    const all: string[] = [];
    for await (const batch of client().batches.list({ limit: 2 })) all.push(batch.id);
    expect(all.slice(0, 2)).toEqual([second.id, first.id]);
    await settled(first.id);
    await settled(second.id);
  });

  it("cancels a running batch: no new requests start, and every custom_id is answered once", async () => {
    const input = chatLines(60, slow, "cancel");
    const batch = await client().batches.create({
      input_file_id: (await upload(input)).id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await eventually(async () => (await client().batches.retrieve(batch.id)).request_counts!.completed > 0, 20_000, 50);
    const cancelling = await client().batches.cancel(batch.id);
    expect(cancelling.status).toMatch(/^cancell(ing|ed)$/);
    const done = await settled(batch.id);
    expect(done.status).toBe("cancelled");
    expect(done.cancelled_at).toBeGreaterThan(0);
    const output = await lines(done.output_file_id);
    const errors = await lines(done.error_file_id);
    expect(output.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect([...output, ...errors].map((l) => l.custom_id).sort()).toEqual(input.map((l) => l.custom_id).sort());
    expect(errors.every((l) => l.error?.code === "batch_cancelled" && l.response === null)).toBe(true);
    expect(done.request_counts).toEqual({ total: 60, completed: output.length, failed: errors.length });
    await expect(client().batches.cancel(batch.id)).resolves.toMatchObject({ status: "cancelled" });
    const completed = (await client().batches.list({ limit: 100 })).data.find((b) => b.status === "completed")!;
    await expect(client().batches.cancel(completed.id)).rejects.toMatchObject({ status: 409, code: "batch_not_cancellable" });
  });
});
