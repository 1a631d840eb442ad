// The request log through the real server and a real PostgreSQL: every error is kept (whatever
// refused it: the key check, validation, the router), successes are sampled at the configured rate
// (within ±20% over 5,000 requests), slow ones always kept; an entry tells the attempts, fallbacks,
// cache, tokens, cost and client address; the admins' settings reach the instance through the fleet
// configuration; bodies are stored only for keys with capture on, cut to their limit; a full buffer
// drops and counts rather than waits; REQUEST_LOG=off keeps nothing. Upstreams: the built-in
// simulator and OpenAI stand-ins on loopback (tests/helpers/openai-stand-in.ts).
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { setApiKeyCapture } from "../../lib/control-plane/keys/api-keys";
import { RequestLogWriter, type RequestLogRow } from "../../lib/data-plane/request-log/writer";
import { saveRequestLogSettings } from "../../lib/control-plane/requests/store";
import { requestLogEntries } from "../../lib/platform/metrics/request-log";
import { parseConfig } from "../../lib/platform/config";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
const SAMPLE_RATE = 0.1;
const SLOW_MS = 700;
const BODY_MAX = 1_024;
let server: ServerProcess;
let failing: OpenAIStandIn;
let good: OpenAIStandIn;
let key: string;
let keyName: string;
let captureKey: string;
let captureKeyId: string;
const models = { fast: unique("m-fast"), slow: unique("m-slow"), pair: unique("m-pair"), broken: unique("m-broken") };
const admin = { id: null, email: "request-log-test" };

interface Row {
  request_id: string;
  key_id: string | null;
  key_name: string | null;
  endpoint: string;
  model: string | null;
  stream: boolean;
  status: number;
  error_code: string | null;
  error_message: string | null;
  kept_because: string;
  duration_ms: number;
  overhead_ms: number | null;
  attempts: Array<{ deployment: string; provider: string; outcome: string; status: number | null; latencyMs: number }>;
  retries: number;
  fallbacks: number;
  cache: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  client_ip: string | null;
  request_body: string | null;
  response_body: string | null;
}

const rowsOf = async (where: string, params: unknown[] = []) =>
  (
    await fixture.database.pool.query<Row>(`SELECT * FROM request_log WHERE instance_id = $1 AND ${where}`, [
      server.instanceId,
      ...params,
    ])
  ).rows;

const entryFor = async (requestId: string): Promise<Row> => {
  let found: Row | undefined;
  await eventually(async () => !!(found = (await rowsOf("request_id = $2", [requestId]))[0]), 5_000);
  return found!;
};

const ask = (model: string, content = "hello there", extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content }],
  ...extra,
});

async function post(
  body: unknown,
  options: { key?: string | null; requestId?: string; contentType?: string; raw?: string } = {},
) {
  const requestId = options.requestId ?? `rl-${randomBytes(6).toString("hex")}`;
  const headers: Record<string, string> = {
    "content-type": options.contentType ?? "application/json",
    "x-request-id": requestId,
  };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? key}`;
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.headers.get("x-request-id")).toBe(requestId);
  return { status: response.status, text, requestId };
}

beforeAll(async () => {
  [failing, good] = await Promise.all([
    startOpenAIStandIn({ apiKey: "k-failing", name: "F" }),
    startOpenAIStandIn({ apiKey: "k-good", name: "G" }),
  ]);
  failing.setBehaviour({ failAll: 503 });
  await fixture.addProvider({
    kind: "simulator",
    name: unique("sim-fast"),
    deployments: [{ modelName: models.fast, upstreamModel: "sim-fast" }],
  });
  await fixture.addProvider({
    kind: "simulator",
    name: unique("sim-slow"),
    settings: { latencyMs: { median: 1_000, p99: 1_000 }, tokensPerSecond: 0, errorRate: 0 },
    deployments: [{ modelName: models.slow, upstreamModel: "sim-slow" }],
  });
  const timeouts = { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 };
  // Weighted so that the failing one is almost always tried first, then the good one.
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("failing"),
    baseUrl: failing.url,
    apiKey: "k-failing",
    settings: { headers: {}, timeouts },
    deployments: [
      { modelName: models.pair, upstreamModel: "gpt-4o", weight: 1_000 },
      { modelName: models.broken, upstreamModel: "gpt-4o" },
    ],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("good"),
    baseUrl: good.url,
    apiKey: "k-good",
    settings: { headers: {}, timeouts },
    deployments: [{ modelName: models.pair, upstreamModel: "gpt-4o-mini", weight: 1 }],
  });
  const created = await fixture.addKey();
  key = created.key;
  keyName = created.record.name;
  const capturing = await fixture.addKey();
  captureKey = capturing.key;
  captureKeyId = capturing.record.id;
  server = await fixture.startServer({
    env: {
      REQUEST_LOG_SAMPLE_RATE: String(SAMPLE_RATE),
      REQUEST_LOG_SLOW_MS: String(SLOW_MS),
      REQUEST_LOG_BODY_MAX_BYTES: String(BODY_MAX),
      ROUTER_MAX_ATTEMPTS: "3",
      CIRCUIT_FAILURE_THRESHOLD: "1000",
    },
  });
}, 90_000);

afterAll(async () => {
  await fixture.close();
  await Promise.all([failing?.close(), good?.close()]);
});

describe("the request log", () => {
  it("keeps every error, whatever refused it, with the reason and what was tried", async () => {
    const sent: Array<{ requestId: string; status: number }> = [];
    for (let i = 0; i < 20; i++) {
      sent.push(await post(ask("no-such-model")));
      sent.push(await post(ask(models.fast), { key: "ak-not-a-key" }));
      sent.push(await post({ model: models.fast, messages: "not a list" }));
      sent.push(await post(null, { raw: "{not json" }));
      sent.push(await post(null, { raw: "plain", contentType: "text/plain" }));
    }
    const broken = await post(ask(models.broken));
    expect(broken.status).toBe(502);
    sent.push(broken);
    expect(new Set(sent.map((s) => s.status))).toEqual(new Set([404, 401, 400, 415, 502]));
    await eventually(
      async () => (await rowsOf("request_id = ANY($2)", [sent.map((s) => s.requestId)])).length === sent.length,
      5_000,
    );
    const rows = new Map((await rowsOf("request_id = ANY($2)", [sent.map((s) => s.requestId)])).map((r) => [r.request_id, r]));
    for (const { requestId, status } of sent) {
      const row = rows.get(requestId)!;
      expect(row.status, requestId).toBe(status);
      expect(row.kept_because).toBe("error");
      expect(row.error_message, requestId).toBeTruthy();
    }
    const unknownModel = rows.get(sent[0]!.requestId)!;
    expect(unknownModel).toMatchObject({
      model: "no-such-model",
      key_name: keyName,
      error_code: "model_not_found",
      endpoint: "chat",
      attempts: [],
    });
    // The key was not recognised: refused before its body was read, so neither key nor model is known.
    expect(rows.get(sent[1]!.requestId)).toMatchObject({
      key_id: null,
      key_name: null,
      model: null,
      status: 401,
      error_code: "invalid_api_key",
    });
    // A body that failed validation still names the model it asked for.
    expect(rows.get(sent[2]!.requestId)).toMatchObject({ key_name: keyName, model: models.fast, status: 400 });
    // Every attempt on the one failing deployment, each with the upstream's status.
    const failed = rows.get(broken.requestId)!;
    expect(failed.attempts).toHaveLength(3);
    for (const attempt of failed.attempts) expect(attempt).toMatchObject({ outcome: "server_error", status: 503 });
    expect(failed.attempts[0]!.deployment).toMatch(/\/gpt-4o$/);
    expect(failed).toMatchObject({ retries: 2, fallbacks: 0, cost_usd: null, prompt_tokens: null });
  });

  it("samples successes at the configured rate: within ±20% over 5,000 requests", async () => {
    const marker = `sample-${randomBytes(4).toString("hex")}`;
    const total = 5_000;
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) {
          const i = next++;
          const { status } = await post(ask(models.fast, `hello ${i}`), { requestId: `${marker}-${i}` });
          statuses.push(status);
        }
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(total);
    const count = async () => (await rowsOf("request_id LIKE $2", [`${marker}-%`])).length;
    // Written within about a second of the last request: wait until the count stops moving.
    let last = -1;
    await eventually(
      async () => {
        const now = await count();
        const settled = now === last;
        last = now;
        return settled;
      },
      10_000,
      1_500,
    );
    expect(last).toBeGreaterThanOrEqual(total * SAMPLE_RATE * 0.8);
    expect(last).toBeLessThanOrEqual(total * SAMPLE_RATE * 1.2);
    expect(new Set((await rowsOf("request_id LIKE $2", [`${marker}-%`])).map((r) => r.kept_because))).toEqual(
      new Set(["sampled"]),
    );
  }, 120_000);

  it("always keeps a slow request", async () => {
    const sent = await Promise.all(Array.from({ length: 4 }, () => post(ask(models.slow))));
    for (const { requestId, status } of sent) {
      expect(status).toBe(200);
      const row = await entryFor(requestId);
      expect(row.kept_because).toBe("slow");
      expect(row.duration_ms).toBeGreaterThanOrEqual(SLOW_MS);
    }
  });

  it("follows the admins' settings, and tells the attempts, fallback, cache, tokens, cost and client of a kept success", async () => {
    const config = parseConfig({ DATABASE_URL: inject("databaseUrl"), SECRET: "s".repeat(32) });
    await saveRequestLogSettings(fixture.prisma, { sampleRate: 1, slowMs: null }, admin, config);
    // Kept once the instance has the new rate: every success from then on.
    let probe = "";
    await eventually(
      async () => {
        probe = (await post(ask(models.fast, "probe"))).requestId;
        await new Promise((r) => setTimeout(r, 1_200));
        return (await rowsOf("request_id = $2", [probe])).length === 1;
      },
      15_000,
      100,
    );

    const fellBack = await post(ask(models.pair, "count these four words"));
    expect(fellBack.status).toBe(200);
    const row = await entryFor(fellBack.requestId);
    expect(row).toMatchObject({
      status: 200,
      kept_because: "sampled",
      key_name: keyName,
      model: models.pair,
      cache: "bypass",
      retries: 1,
      fallbacks: 1,
      client_ip: "127.0.0.1",
      error_message: null,
    });
    expect(row.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ["server_error", 503],
      ["ok", null],
    ]);
    expect(row.attempts[1]!.deployment).toMatch(/\/gpt-4o-mini$/);
    expect(row.prompt_tokens).toBe(4);
    expect(row.completion_tokens).toBeGreaterThan(0);
    // gpt-4o-mini's default price (lib/data-plane/usage/prices.ts): $0.15 and $0.60 per million.
    expect(row.cost_usd).toBeCloseTo((4 * 0.15 + row.completion_tokens! * 0.6) / 1e6, 12);
    expect(row.overhead_ms).toBeGreaterThanOrEqual(0);
    expect(row.request_body).toBeNull();
    expect(row.response_body).toBeNull();

    // A cacheable request answered twice: the second is a hit.
    const cached = ask(models.fast, `cache me ${randomBytes(3).toString("hex")}`, { temperature: 0 });
    const miss = await post(cached);
    const hit = await post(cached);
    expect((await entryFor(miss.requestId)).cache).toBe("miss");
    expect((await entryFor(hit.requestId)).cache).toBe("hit");

    // A stream, and one whose upstream drops it midway: a 502 in the log though its headers said 200.
    const streamed = await post(ask(models.fast, "stream this", { stream: true }));
    expect(streamed.text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(await entryFor(streamed.requestId)).toMatchObject({ stream: true, status: 200, cache: "bypass" });
    good.setBehaviour({ dropStreamAfterChunks: 1 });
    try {
      const dropped = await post(ask(models.pair, "one two three four five six", { stream: true }));
      expect(dropped.status).toBe(200);
      const entry = await entryFor(dropped.requestId);
      expect(entry).toMatchObject({ stream: true, status: 502, kept_because: "error", error_code: "stream_interrupted" });
      expect(entry.attempts.at(-1)!.outcome).not.toBe("ok");
    } finally {
      good.setBehaviour({});
    }
  }, 60_000);

  it("stores bodies only for a key with capture on, cut to REQUEST_LOG_BODY_MAX_BYTES", async () => {
    // Every success kept (as the test before leaves it), so that each request below has its entry.
    await saveRequestLogSettings(
      fixture.prisma,
      { sampleRate: 1, slowMs: null },
      admin,
      parseConfig({ DATABASE_URL: inject("databaseUrl"), SECRET: "s".repeat(32) }),
    );
    await setApiKeyCapture(fixture.prisma, captureKeyId, { captureBodies: true }, admin);
    let probe = "";
    await eventually(
      async () => {
        probe = (await post(ask(models.fast, "capture probe"), { key: captureKey })).requestId;
        const row = await entryFor(probe).catch(() => undefined);
        return row?.request_body !== null && row?.request_body !== undefined;
      },
      25_000,
      200,
    );
    const row = await entryFor(probe);
    expect(JSON.parse(row.request_body!)).toEqual(ask(models.fast, "capture probe"));
    expect(row.response_body).toContain("choices");

    const long = "word ".repeat(1_000);
    const big = await entryFor((await post(ask(models.fast, long), { key: captureKey })).requestId);
    expect(big.request_body!.endsWith(`…[truncated at ${BODY_MAX} bytes]`)).toBe(true);
    expect(Buffer.byteLength(big.request_body!)).toBeLessThan(BODY_MAX + 40);

    // A stream's answer is the events sent, cut the same way (24 chunks of about 200 bytes here).
    const streamed = await entryFor((await post(ask(models.fast, "stream it", { stream: true }), { key: captureKey })).requestId);
    expect(streamed.response_body!.startsWith("data: {")).toBe(true);
    expect(streamed.response_body!.endsWith(`…[truncated at ${BODY_MAX} bytes]`)).toBe(true);

    // The same request from a key without capture: no body.
    const other = await entryFor((await post(ask(models.fast, "not captured"))).requestId);
    expect(other.request_body).toBeNull();
    expect(other.response_body).toBeNull();
  }, 60_000);
});

describe("the request log's writer", () => {
  const row = (i: number): RequestLogRow => ({
    at: Date.now(),
    requestId: `writer-${i}`,
    instanceId: "writer-test",
    keyId: null,
    keyName: null,
    endpoint: "chat",
    model: "m",
    stream: false,
    status: 200,
    errorCode: null,
    errorMessage: null,
    keptBecause: "sampled",
    durationMs: 1,
    overheadMs: null,
    attempts: "[]",
    retries: 0,
    fallbacks: 0,
    cache: null,
    promptTokens: null,
    completionTokens: null,
    costUsd: null,
    clientIp: null,
    requestBody: null,
    responseBody: null,
  });
  const dropped = async () => (await requestLogEntries.get()).values.find((v) => v.labels.outcome === "dropped")?.value ?? 0;

  it("never waits: with the database unreachable a full buffer drops and counts, and what it kept is written once it is back", async () => {
    // Nothing listens on port 9: every write fails at once.
    const unreachable = new pg.Pool({ connectionString: "postgres://nobody@127.0.0.1:9/none", connectionTimeoutMillis: 500 });
    unreachable.on("error", () => {});
    const errors: Error[] = [];
    const writer = new RequestLogWriter({
      pool: unreachable,
      bufferMax: 100,
      batchSize: 40,
      flushMs: 60_000,
      onError: (e) => errors.push(e),
    });
    const before = await dropped();
    const started = performance.now();
    const accepted = Array.from({ length: 150 }, (_, i) => writer.push(row(i)));
    expect(performance.now() - started).toBeLessThan(50);
    expect(accepted.filter(Boolean)).toHaveLength(100);
    expect((await dropped()) - before).toBe(50);
    await writer.flush();
    expect(errors.length).toBeGreaterThan(0);
    expect(writer.buffered).toBe(100);
    await writer.stop();
    await unreachable.end();

    // The same rows through a writer on the real database.
    const real = new RequestLogWriter({ pool: fixture.database.pool, bufferMax: 100, batchSize: 40, flushMs: 60_000 });
    for (let i = 0; i < 100; i++) real.push(row(i));
    await real.stop();
    const { rows } = await fixture.database.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM request_log WHERE instance_id = 'writer-test'",
    );
    expect(rows[0]!.n).toBe(100);
  });
});

describe("REQUEST_LOG=off", () => {
  it("keeps nothing, errors included", async () => {
    const off = await fixture.startServer({ env: { REQUEST_LOG: "off", REQUEST_LOG_SAMPLE_RATE: "1" } });
    const requestId = `off-${randomBytes(4).toString("hex")}`;
    for (const model of [models.fast, "no-such-model"]) {
      const response = await fetch(`${off.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-request-id": `${requestId}-${model}` },
        body: JSON.stringify(ask(model)),
      });
      await response.arrayBuffer();
    }
    await new Promise((r) => setTimeout(r, 2_000));
    const { rows } = await fixture.database.pool.query("SELECT 1 FROM request_log WHERE instance_id = $1", [off.instanceId]);
    expect(rows).toEqual([]);
  }, 60_000);
});
