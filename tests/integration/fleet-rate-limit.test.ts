// The per-key requests-per-minute limit across a fleet: three real server processes on one
// database, a burst of twice the limit spread over them, arriving together. The fleet admits
// between 90% and 100% of the limit, refuses the rest with OpenAI-shaped 429s carrying
// Retry-After, and counts every refusal in agenticorp_rate_limited_total.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import { sample } from "../helpers/prometheus-text";
import { awayFromMinuteEnd } from "../helpers/rate-window";
import type { ServerProcess } from "../helpers/server-process";

const LIMIT = 60;
const PER_INSTANCE = (LIMIT * 2) / 3; // three instances: 2× the limit in all
const RATE_LIMITED = "agenticorp_rate_limited_total";

const fixture = new GatewayFixture();
const model = unique("limited");
let upstream: OpenAIStandIn;
let servers: ServerProcess[];

beforeAll(async () => {
  upstream = await startOpenAIStandIn({ apiKey: "upstream-key", name: "U" });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("u"),
    baseUrl: upstream.url,
    apiKey: "upstream-key",
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 } },
    deployments: [{ modelName: model, upstreamModel: "gpt-4o-mini" }],
  });
  servers = await Promise.all([0, 1, 2].map(() => fixture.startServer()));
});

afterAll(async () => {
  await fixture.close();
  await upstream?.close();
});

const refusalsCounted = async (server: ServerProcess) =>
  sample(await (await fetch(`${server.url}/metrics`)).text(), RATE_LIMITED);

it("admits between 90% and 100% of a key's limit across three instances under a 2× burst, and counts every 429", async () => {
  const { key, record } = await fixture.addKey({ rpmLimit: LIMIT });
  const models = (server: ServerProcess) => fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  for (const server of servers) await eventually(async () => (await models(server)).status === 200);
  const countedBefore = await Promise.all(servers.map(refusalsCounted));

  // The whole burst falls in one window of database time, so at most LIMIT may be admitted.
  await awayFromMinuteEnd(fixture.database.pool, 20);
  const send = (server: ServerProcess) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
    });
  const responses = await Promise.all(servers.flatMap((server) => Array.from({ length: PER_INSTANCE }, () => send(server))));

  const statuses = responses.map((r) => r.status);
  expect(statuses).toHaveLength(2 * LIMIT);
  expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  const admitted = statuses.filter((s) => s === 200).length;
  const refused = responses.filter((r) => r.status === 429);
  expect(admitted).toBeLessThanOrEqual(LIMIT);
  expect(admitted).toBeGreaterThanOrEqual(LIMIT * 0.9);
  expect(refused).toHaveLength(2 * LIMIT - admitted);

  for (const response of refused) {
    const retryAfter = Number(response.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await response.json()).error).toEqual({
      message: `Rate limit reached for this API key: ${LIMIT} requests per minute.`,
      type: "rate_limit_error",
      param: null,
      code: "rate_limit_exceeded",
    });
  }
  // Only admitted requests reached the upstream.
  expect(upstream.requests.filter((r) => r.path === "/v1/chat/completions")).toHaveLength(admitted);

  // Every 429 was counted, on the instance that sent it.
  const countedAfter = await Promise.all(servers.map(refusalsCounted));
  const countedNow = countedAfter.reduce((sum, n, i) => sum + n - countedBefore[i]!, 0);
  expect(countedNow).toBe(refused.length);

  // The fleet claimed the whole window from the shared counter, and never more.
  const { rows } = await fixture.database.pool.query<{ used: number }>("SELECT used FROM rate_limit_windows WHERE key_id = $1", [
    record.id,
  ]);
  expect(rows).toEqual([{ used: LIMIT }]);
});
