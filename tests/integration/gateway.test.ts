// The gateway end to end: real server processes, real OpenAI-compatible upstreams on loopback
// (tests/helpers/openai-stand-in.ts, a stand-in for paid APIs), the official openai SDK as client.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeApiKey } from "../../lib/control-plane/keys/api-keys";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let upstreamA: OpenAIStandIn;
let upstreamB: OpenAIStandIn;
let first: ServerProcess;
let second: ServerProcess;
let key: string;
const pair = unique("pair"); // served by A and B
const solo = unique("solo"); // served by A only
const slow = unique("slow"); // served by A only, with a short first-byte timeout

const client = (server: ServerProcess, apiKey = key, prefix = "/v1") =>
  new OpenAI({ apiKey, baseURL: `${server.url}${prefix}`, maxRetries: 0, timeout: 20_000 });

const post = (server: ServerProcess, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });

const ask = (model: string, content = "hello there", extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user" as const, content }],
  ...extra,
});

beforeAll(async () => {
  upstreamA = await startOpenAIStandIn({ apiKey: "upstream-key-a", name: "A" });
  upstreamB = await startOpenAIStandIn({ apiKey: "upstream-key-b", name: "B" });
  const timeouts = { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 };
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("a"),
    baseUrl: upstreamA.url,
    apiKey: "upstream-key-a",
    settings: { headers: { "x-tenant": "acme" }, timeouts },
    deployments: [
      { modelName: pair, upstreamModel: "gpt-4o-mini" },
      { modelName: solo, upstreamModel: "gpt-4o" },
    ],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("a-slow"),
    baseUrl: upstreamA.url,
    apiKey: "upstream-key-a",
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 500, totalMs: 10_000 } },
    deployments: [{ modelName: slow, upstreamModel: "gpt-4o" }],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("b"),
    baseUrl: upstreamB.url,
    apiKey: "upstream-key-b",
    settings: { headers: {}, timeouts },
    deployments: [{ modelName: pair, upstreamModel: "gpt-4o-mini" }],
  });
  key = (await fixture.addKey()).key;
  const env = { CIRCUIT_FAILURE_THRESHOLD: "3", CIRCUIT_COOLDOWN_MS: "1500" };
  [first, second] = await Promise.all([fixture.startServer({ env }), fixture.startServer({ env })]);
});

afterAll(async () => {
  await fixture.close();
  await Promise.all([upstreamA?.close(), upstreamB?.close()]);
});

const resetUpstreams = () => {
  upstreamA.reset();
  upstreamB.reset();
};

describe("OpenAI SDK against the gateway", () => {
  it.each(["/v1", "/api/v1"])("completes a chat under %s with OpenAI's shape and the gateway's headers", async (prefix) => {
    resetUpstreams();
    const { data, response } = await client(first, key, prefix)
      .chat.completions.create({ ...ask(solo, "say hi"), temperature: 0.5, foo_unknown: { kept: true } } as never)
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.model).toBe(solo);
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.choices[0]!.message.content).toBe("[A] echo: say hi");
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(response.headers.get("x-agenticorp-instance")).toBe(first.instanceId);
    // Milliseconds with three decimals; the gateway's own work always takes some.
    expect(response.headers.get("x-agenticorp-overhead-ms")).toMatch(/^\d+\.\d{3}$/);
    expect(Number(response.headers.get("x-agenticorp-overhead-ms"))).toBeGreaterThan(0);
    expect(response.headers.get("x-agenticorp-cache")).toBe("bypass");
    // The upstream got its own key, the provider's extra header, its model name, and the unknown field.
    const seen = upstreamA.requests.at(-1)!;
    expect(seen.headers.authorization).toBe("Bearer upstream-key-a");
    expect(seen.headers["x-tenant"]).toBe("acme");
    expect(seen.body).toMatchObject({ model: "gpt-4o", foo_unknown: { kept: true }, temperature: 0.5 });
    expect(JSON.stringify(seen.headers)).not.toContain(key);
  });

  it("streams Server-Sent Events the SDK reads, with usage, ending in [DONE]", async () => {
    resetUpstreams();
    const stream = await client(first).chat.completions.create({
      ...ask(solo, "one two three four"),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.model).toBe(solo);
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("[A] echo: one two three four");
    expect(chunks).toBeGreaterThan(3);
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) });
  });

  it("sends SSE headers that turn proxy buffering off", async () => {
    const response = await post(first, { ...ask(solo), stream: true });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("x-accel-buffering")).toBe("no");
    const body = await response.text();
    expect(body.trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("lists only the models a key may use", async () => {
    const all = await client(first).models.list();
    expect(all.data.map((m) => m.id)).toEqual(expect.arrayContaining([pair, solo]));
    const limited = (await fixture.addKey({ allowedModels: [solo] })).key;
    await eventually(
      async () => (await fetch(`${first.url}/v1/models`, { headers: { authorization: `Bearer ${limited}` } })).status === 200,
    );
    const visible = await client(first, limited).models.list();
    expect(visible.data.map((m) => m.id)).toEqual([solo]);
    await expect(client(first, limited).chat.completions.create(ask(pair))).rejects.toMatchObject({
      status: 403,
      code: "model_not_allowed",
    });
    expect((await client(first).models.retrieve(solo)).id).toBe(solo);
  });
});

describe("routing", () => {
  it.each([
    ["a 500", { failAll: 500 }],
    ["a 429", { failAll: 429 }],
  ])("falls back to the other deployment on %s", async (_, behaviour) => {
    resetUpstreams();
    upstreamA.setBehaviour(behaviour);
    upstreamB.setBehaviour({});
    try {
      for (let i = 0; i < 6; i++) {
        const reply = await client(second).chat.completions.create(ask(pair, `try ${i}`));
        expect(reply.choices[0]!.message.content).toBe(`[B] echo: try ${i}`);
      }
    } finally {
      upstreamA.setBehaviour({});
    }
  });

  it("times out a silent upstream at the first-byte limit and answers 504 when nothing else can serve", async () => {
    resetUpstreams();
    upstreamA.setBehaviour({ headerDelayMs: 3_000 });
    try {
      const started = Date.now();
      const response = await post(first, ask(slow));
      expect(response.status).toBe(504);
      expect((await response.json()).error).toMatchObject({ type: "timeout_error", code: "upstream_timeout" });
      expect(Date.now() - started).toBeLessThan(2_900 * 3);
    } finally {
      upstreamA.setBehaviour({});
    }
  });

  it("opens the circuit of a failing deployment, refuses fast while open, and closes it after the cooldown", async () => {
    resetUpstreams();
    upstreamA.setBehaviour({ failAll: 500 });
    const failed = await post(second, ask(solo));
    expect(failed.status).toBe(502);
    expect((await failed.json()).error.type).toBe("upstream_error");
    // Three attempts, three failures: the threshold in this test is 3, so the circuit is open.
    const callsWhenOpened = upstreamA.requests.length;
    expect(callsWhenOpened).toBe(3);
    const refused = await post(second, ask(solo));
    expect(refused.status).toBe(503);
    // What is left of the 1.5 s cooldown, rounded up to whole seconds.
    expect(refused.headers.get("retry-after")).toMatch(/^[12]$/);
    expect(upstreamA.requests.length).toBe(callsWhenOpened);
    const metrics = await (await fetch(`${second.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`agenticorp_circuit_state\\{deployment="[^"]+/gpt-4o"\\} 2`));
    upstreamA.setBehaviour({});
    await new Promise((r) => setTimeout(r, 1_600));
    const recovered = await post(second, ask(solo));
    expect(recovered.status).toBe(200);
    const after = await (await fetch(`${second.url}/metrics`)).text();
    expect(after).toMatch(new RegExp(`agenticorp_circuit_state\\{deployment="[^"]+/gpt-4o"\\} 0`));
  });

  it.each([false, true])("cancels the upstream call when the client hangs up (stream: %s)", async (stream) => {
    resetUpstreams();
    upstreamA.setBehaviour(stream ? { chunkDelayMs: 300 } : { headerDelayMs: 5_000 });
    try {
      const hangUp = new AbortController();
      const response = post(first, { ...ask(solo, "a b c d e f g h i j k l"), stream }, {}, hangUp.signal);
      if (stream) await (await response).body!.getReader().read();
      else await eventually(async () => upstreamA.requests.length === 1);
      const hungUpAt = Date.now();
      hangUp.abort();
      await response.then((r) => r.text()).catch(() => {});
      await eventually(async () => upstreamA.requests[0]!.abandonedAt !== undefined);
      expect(upstreamA.requests[0]!.abandonedAt! - hungUpAt).toBeLessThan(1_000);
      expect(upstreamA.requests).toHaveLength(1);
    } finally {
      upstreamA.setBehaviour({});
    }
  });

  it("never retries a stream after its first byte reached the client", async () => {
    resetUpstreams();
    upstreamA.setBehaviour({ dropStreamAfterChunks: 2 });
    try {
      const response = await post(first, { ...ask(solo, "a b c d e f g h"), stream: true });
      expect(response.status).toBe(200);
      const body = await response.text();
      expect(body).toContain('"content":"[A] "');
      expect(body).toContain('"code":"stream_interrupted"');
      expect(body).not.toContain("[DONE]");
      expect(upstreamA.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(1);
    } finally {
      upstreamA.setBehaviour({});
    }
  });
});

describe("response cache", () => {
  it("serves one instance's deterministic answer as a hit on another instance", async () => {
    resetUpstreams();
    const body = { ...ask(solo, `cache me ${unique("q")}`), temperature: 0 };
    const miss = await post(first, body);
    expect(miss.headers.get("x-agenticorp-cache")).toBe("miss");
    const original = await miss.text();
    // The first instance stores the answer in the shared table just after answering, off the
    // request path: wait for the row rather than guess how long a loaded machine takes.
    await eventually(
      async () => (await fixture.database.pool.query("SELECT 1 FROM response_cache WHERE body = $1", [original])).rowCount === 1,
    );
    const hit = await post(second, body);
    expect(hit.headers.get("x-agenticorp-cache")).toBe("hit");
    expect(await hit.text()).toBe(original);
    expect(upstreamA.requests).toHaveLength(1);
    const bypass = await post(second, body, { "x-agenticorp-cache": "bypass" });
    expect(bypass.headers.get("x-agenticorp-cache")).toBe("bypass");
    expect(upstreamA.requests).toHaveLength(2);
  });
});

describe("keys and limits", () => {
  it("a revoked key is refused by another instance within about a second", async () => {
    const { key: doomed, record } = await fixture.addKey();
    const modelsWith = (server: ServerProcess) =>
      fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${doomed}` } });
    for (const server of [first, second]) await eventually(async () => (await modelsWith(server)).status === 200);
    await revokeApiKey(fixture.prisma, record.id);
    // Each instance applies the notification on its own schedule; each must within the bound.
    const tookMs = await Promise.all(
      [first, second].map((server) => eventually(async () => (await modelsWith(server)).status === 401, 3_000, 10)),
    );
    for (const ms of tookMs) expect(ms).toBeLessThan(1_500);
    const refused = await modelsWith(first);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("invalid_api_key");
  });
});
