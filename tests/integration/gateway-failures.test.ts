// Whose fault a failure is, through the real server against OpenAI stand-in upstreams on loopback
// (tests/helpers/openai-stand-in.ts): a client hanging up is not the upstream's failure; an
// upstream refusing our credentials or model is, and fails over; a client's own mistake is passed
// on unretried; single-flight cache waiters survive the first caller's hang-up; cache entries
// belong to one API key unless CACHE_SCOPE=fleet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let slow: OpenAIStandIn; // answers late on request; clients hang up on it
let good: OpenAIStandIn;
let locked: OpenAIStandIn; // the gateway holds the wrong key for it: every call is a 401
let picky: OpenAIStandIn; // answers whatever status a test sets
let server: ServerProcess;
let fleetServer: ServerProcess; // CACHE_SCOPE=fleet
let keyA: string;
let keyB: string;
const names = {
  simulated: unique("sim-slow"),
  slow: unique("slow"),
  good: unique("good"),
  locked: unique("locked"),
  picky: unique("picky"),
};
const models = {
  simulated: unique("m-sim"), // the built-in simulator with a steady 1.5 s latency
  slow: unique("m-slow"),
  pair: unique("m-pair"), // locked (weighted to be tried first) and good
  lockedOnly: unique("m-locked"),
  retired: unique("m-retired"), // good's upstream does not know the upstream model
  picky: unique("m-picky"),
  cached: unique("m-cached"),
};
const THRESHOLD = 3;

const post = (target: ServerProcess, body: unknown, options: { key?: string; signal?: AbortSignal } = {}) =>
  fetch(`${target.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${options.key ?? keyA}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: options.signal,
  });

const ask = (model: string, content = "hello there", extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: "user", content }],
  ...extra,
});

const metricsOf = async (target: ServerProcess) => (await fetch(`${target.url}/metrics`)).text();

/** The value of one sample in a Prometheus text page, matched by its labels in any order; undefined when absent. */
function sample(page: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of page.split("\n")) {
    if (line.startsWith(`${metric} `) && Object.keys(labels).length === 0) return Number(line.slice(metric.length + 1));
    if (!line.startsWith(`${metric}{`)) continue;
    const labelText = line.slice(metric.length + 1, line.lastIndexOf("}"));
    if (Object.entries(labels).every(([name, value]) => labelText.includes(`${name}="${value}"`)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

const chatCalls = (standIn: OpenAIStandIn) => standIn.requests.filter((r) => r.path.endsWith("/chat/completions"));

beforeAll(async () => {
  [slow, good, locked, picky] = await Promise.all([
    startOpenAIStandIn({ apiKey: "key-slow", name: "S" }),
    startOpenAIStandIn({ apiKey: "key-good", name: "G" }),
    startOpenAIStandIn({ apiKey: "key-right", name: "L" }),
    startOpenAIStandIn({ apiKey: "key-picky", name: "P" }),
  ]);
  const timeouts = { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 };
  await fixture.addProvider({
    kind: "simulator",
    name: names.simulated,
    settings: { latencyMs: { median: 1_500, p99: 1_500 }, tokensPerSecond: 0, errorRate: 0 },
    deployments: [{ modelName: models.simulated, upstreamModel: "sim" }],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: names.slow,
    baseUrl: slow.url,
    apiKey: "key-slow",
    settings: { headers: {}, timeouts },
    deployments: [{ modelName: models.slow, upstreamModel: "gpt-4o" }],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: names.good,
    baseUrl: good.url,
    apiKey: "key-good",
    settings: { headers: {}, timeouts },
    deployments: [
      { modelName: models.pair, upstreamModel: "gpt-4o", weight: 1 },
      { modelName: models.retired, upstreamModel: "retired-model" },
      { modelName: models.cached, upstreamModel: "gpt-4o-mini" },
    ],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: names.locked,
    baseUrl: locked.url,
    apiKey: "key-wrong",
    settings: { headers: {}, timeouts },
    deployments: [
      { modelName: models.pair, upstreamModel: "gpt-4o", weight: 20 },
      { modelName: models.lockedOnly, upstreamModel: "gpt-4o-mini" },
    ],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: names.picky,
    baseUrl: picky.url,
    apiKey: "key-picky",
    settings: { headers: {}, timeouts },
    deployments: [{ modelName: models.picky, upstreamModel: "gpt-4o" }],
  });
  keyA = (await fixture.addKey()).key;
  keyB = (await fixture.addKey()).key;
  // A cooldown far longer than any test: a circuit these requests opened stays open throughout.
  const env = { CIRCUIT_FAILURE_THRESHOLD: String(THRESHOLD), CIRCUIT_COOLDOWN_MS: "600000" };
  [server, fleetServer] = await Promise.all([
    fixture.startServer({ env }),
    fixture.startServer({ env: { ...env, CACHE_SCOPE: "fleet" } }),
  ]);
});

afterAll(async () => {
  await fixture.close();
  await Promise.all([slow, good, locked, picky].map((s) => s?.close()));
});

describe("a client that hangs up", () => {
  it("is not the upstream's failure: after many early hang-ups patient requests are all served, and the hang-ups count as 499", async () => {
    slow.reset();
    slow.setBehaviour({ headerDelayMs: 1_500 });
    const impatient = 3 * THRESHOLD;
    const hangUps = Array.from({ length: impatient }, () => new AbortController());
    const responses = hangUps.map((h, i) =>
      post(server, ask(models.slow, `impatient ${i}`), { signal: h.signal }).catch(() => null),
    );
    await eventually(async () => chatCalls(slow).length === impatient);
    for (const h of hangUps) h.abort();
    await Promise.all(responses);
    // Each hang-up reached the upstream as a cancelled call.
    await eventually(async () => chatCalls(slow).every((r) => r.abandonedAt !== undefined));

    slow.setBehaviour({});
    const patient = await Promise.all(Array.from({ length: 5 }, (_, i) => post(server, ask(models.slow, `patient ${i}`))));
    expect(patient.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const page = await metricsOf(server);
    expect(sample(page, "agenticorp_gateway_requests_total", { model: models.slow, status: "499", stream: "false" })).toBe(
      impatient,
    );
    expect(sample(page, "agenticorp_upstream_attempt_failures_total", { provider: names.slow, reason: "client_gone" })).toBe(
      impatient,
    );
    expect(
      sample(page, "agenticorp_upstream_attempt_failures_total", { provider: names.slow, reason: "timeout_total" }),
    ).toBeUndefined();
    // Abandoned calls say nothing about the upstream's latency: only the patient ones are timed.
    expect(sample(page, "agenticorp_upstream_duration_seconds_count", { provider: names.slow })).toBe(patient.length);
    expect(sample(page, "agenticorp_circuit_state", { deployment: `${names.slow}/gpt-4o` })).toBeUndefined();
  });

  it("on the built-in simulator (the issue's curl --max-time case) leaves its circuit closed too", async () => {
    const impatient = 3 * THRESHOLD;
    const hangUps = Array.from({ length: impatient }, () => new AbortController());
    const responses = hangUps.map((h, i) =>
      post(server, ask(models.simulated, `impatient ${i}`), { signal: h.signal }).catch(() => null),
    );
    // Hang up once every request is in the gateway, well inside the simulator's wait.
    await eventually(
      async () => (sample(await metricsOf(server), "agenticorp_http_requests_in_flight", {}) ?? 0) >= impatient,
      5_000,
      5,
    );
    for (const h of hangUps) h.abort();
    await Promise.all(responses);
    await eventually(
      async () =>
        sample(await metricsOf(server), "agenticorp_gateway_requests_total", {
          model: models.simulated,
          status: "499",
          stream: "false",
        }) === impatient,
    );
    const patient = await Promise.all(Array.from({ length: 5 }, (_, i) => post(server, ask(models.simulated, `patient ${i}`))));
    expect(patient.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(sample(await metricsOf(server), "agenticorp_circuit_state", { deployment: `${names.simulated}/sim` })).toBeUndefined();
  });

  it("mid-stream is not the upstream's failure either, and counts as a 499 stream", async () => {
    slow.reset();
    slow.setBehaviour({ chunkDelayMs: 200 });
    const impatient = 2 * THRESHOLD;
    for (let i = 0; i < impatient; i++) {
      const hangUp = new AbortController();
      const response = await post(
        server,
        { ...ask(models.slow, `a b c d e f g h i j ${i}`), stream: true },
        { signal: hangUp.signal },
      );
      expect(response.status).toBe(200);
      await response.body!.getReader().read();
      hangUp.abort();
    }
    await eventually(
      async () => chatCalls(slow).length === impatient && chatCalls(slow).every((r) => r.abandonedAt !== undefined),
    );
    slow.setBehaviour({});
    const patient = await post(server, { ...ask(models.slow, "one two"), stream: true });
    expect(patient.status).toBe(200);
    expect(await patient.text()).toContain("data: [DONE]");
    // The gateway counts a stream when it ends, a moment after the hang-up reached the upstream.
    await eventually(
      async () =>
        sample(await metricsOf(server), "agenticorp_gateway_requests_total", {
          model: models.slow,
          status: "499",
          stream: "true",
        }) === impatient,
    );
    const page = await metricsOf(server);
    expect(
      sample(page, "agenticorp_gateway_requests_total", { model: models.slow, status: "502", stream: "true" }),
    ).toBeUndefined();
    expect(sample(page, "agenticorp_circuit_state", { deployment: `${names.slow}/gpt-4o` })).toBeUndefined();
  });
});

describe("an upstream that refuses the gateway's credentials or model", () => {
  it("fails over to the model's other deployment and opens the refusing one's circuit", async () => {
    locked.reset();
    good.reset();
    const answers: string[] = [];
    // Weighted 20:1, the locked deployment is tried first on most requests; bounded either way.
    for (let i = 0; i < 60 && chatCalls(locked).length < THRESHOLD; i++) {
      const response = await post(server, ask(models.pair, `pair ${i}`));
      expect(response.status).toBe(200);
      answers.push((await response.json()).choices[0].message.content);
    }
    expect(chatCalls(locked)).toHaveLength(THRESHOLD);
    for (let i = 0; i < 10; i++) {
      const response = await post(server, ask(models.pair, `after ${i}`));
      expect(response.status).toBe(200);
      answers.push((await response.json()).choices[0].message.content);
    }
    expect(answers.every((a) => a.startsWith("[G] echo:"))).toBe(true);
    // Open: nothing more went to it.
    expect(chatCalls(locked)).toHaveLength(THRESHOLD);
    const page = await metricsOf(server);
    expect(sample(page, "agenticorp_circuit_state", { deployment: `${names.locked}/gpt-4o` })).toBe(2);
    expect(sample(page, "agenticorp_upstream_attempt_failures_total", { provider: names.locked, reason: "auth_rejected" })).toBe(
      THRESHOLD,
    );
    expect(
      sample(page, "agenticorp_upstream_last_failure_timestamp_seconds", {
        deployment: `${names.locked}/gpt-4o`,
        reason: "auth_rejected",
      }),
    ).toBeGreaterThan(Date.now() / 1000 - 120);
  });

  it("answers 502 upstream_auth_failed when no other deployment is left, after one call, without the upstream's words", async () => {
    locked.reset();
    const response = await post(server, ask(models.lockedOnly));
    expect(response.status).toBe(502);
    const { error } = await response.json();
    expect(error).toMatchObject({ type: "upstream_error", code: "upstream_auth_failed" });
    expect(error.message).not.toMatch(/incorrect api key/i);
    expect(chatCalls(locked)).toHaveLength(1);
  });

  it("answers 502 upstream_model_not_found for an upstream 404, after one call", async () => {
    good.reset();
    const response = await post(server, ask(models.retired));
    expect(response.status).toBe(502);
    expect((await response.json()).error).toMatchObject({ type: "upstream_error", code: "upstream_model_not_found" });
    expect(chatCalls(good)).toHaveLength(1);
    expect(chatCalls(good)[0]!.body).toMatchObject({ model: "retired-model" });
  });

  it("treats a 403 like a 401: 502 upstream_auth_failed", async () => {
    picky.reset();
    picky.setBehaviour({ failAll: 403 });
    try {
      const response = await post(server, ask(models.picky));
      expect(response.status).toBe(502);
      expect((await response.json()).error.code).toBe("upstream_auth_failed");
      expect(chatCalls(picky)).toHaveLength(1);
    } finally {
      picky.setBehaviour({});
    }
  });
});

describe("a request the upstream finds at fault", () => {
  it.each([400, 413, 422])("is answered %i as the upstream said, once, and the deployment is not blamed", async (status) => {
    picky.reset();
    picky.setBehaviour({ failAll: status });
    try {
      for (let i = 0; i < THRESHOLD + 1; i++) {
        const response = await post(server, ask(models.picky, `fault ${i}`));
        expect(response.status).toBe(status);
        expect((await response.json()).error.type).toBe("invalid_request_error");
      }
      expect(chatCalls(picky)).toHaveLength(THRESHOLD + 1);
    } finally {
      picky.setBehaviour({});
    }
    expect((await post(server, ask(models.picky))).status).toBe(200);
    expect(sample(await metricsOf(server), "agenticorp_circuit_state", { deployment: `${names.picky}/gpt-4o` })).not.toBe(2);
  });
});

describe("response cache", () => {
  it("serves the second of two identical concurrent misses although the first client hung up", async () => {
    good.reset();
    good.setBehaviour({ headerDelayMs: 800 });
    try {
      const body = ask(models.cached, `shared ${unique("q")}`, { temperature: 0 });
      const hangUp = new AbortController();
      const first = post(server, body, { signal: hangUp.signal }).catch(() => null);
      await eventually(async () => chatCalls(good).length === 1);
      const second = post(server, body);
      // Let the second request reach the gateway and join the call in flight before the first leaves.
      await new Promise((r) => setTimeout(r, 200));
      hangUp.abort();
      await first;
      const response = await second;
      expect(response.status).toBe(200);
      expect(response.headers.get("x-agenticorp-cache")).toBe("hit");
      expect((await response.json()).choices[0].message.content).toMatch(/^\[G\] echo: shared/);
      expect(chatCalls(good)).toHaveLength(1);
      expect(chatCalls(good)[0]!.abandonedAt).toBeUndefined();
    } finally {
      good.setBehaviour({});
    }
  });

  it("keeps one API key's answers from another by default, and shares them with CACHE_SCOPE=fleet", async () => {
    const body = ask(models.cached, `tenant ${unique("q")}`, { temperature: 0 });
    const resultFor = async (target: ServerProcess, key: string) => {
      const response = await post(target, body, { key });
      expect(response.status).toBe(200);
      return response.headers.get("x-agenticorp-cache");
    };
    expect(await resultFor(server, keyA)).toBe("miss");
    expect(await resultFor(server, keyB)).toBe("miss");
    expect(await resultFor(server, keyA)).toBe("hit");

    const fleetBody = ask(models.cached, `fleet ${unique("q")}`, { temperature: 0 });
    const fleetResult = async (key: string) => (await post(fleetServer, fleetBody, { key })).headers.get("x-agenticorp-cache");
    expect(await fleetResult(keyA)).toBe("miss");
    expect(await fleetResult(keyB)).toBe("hit");
  });
});
