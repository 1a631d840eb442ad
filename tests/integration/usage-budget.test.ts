// A key's daily spend budget across a fleet: three real server processes, budget "days" of a few
// seconds (BUDGET_TEST_DAY_MS) so a reset happens within the test, and traffic at twice the rate the
// budget allows, each instance sending one request at a time. Admitted spend stops within the
// documented overshoot (at most one request per instance beyond the budget), refusals are OpenAI's
// 429 insufficient_quota naming the budget, and the next day the key is served again. Also the
// tokens-per-minute limit: refused with rate_limit_exceeded once the fleet's minute is used.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import type { ServerProcess } from "../helpers/server-process";

const DAY_MS = 8_000;
/** $1,000 per million tokens either way: a request of 4 prompt + 6 completion tokens costs exactly $0.01. */
const PRICE = 1_000;
const COST = 0.01;
const BUDGET = 0.2; // 20 requests a day
const PROMPT = "one two three four";

const fixture = new GatewayFixture();
const model = unique("budget");
let upstream: OpenAIStandIn;
let servers: ServerProcess[];

beforeAll(async () => {
  upstream = await startOpenAIStandIn({ name: "U" });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("u"),
    baseUrl: upstream.url,
    apiKey: "upstream-key",
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 } },
    deployments: [{ modelName: model, upstreamModel: "gpt-4o-mini" }],
  });
  await fixture.prisma.modelPrice.create({ data: { model, inputPerMillion: PRICE, outputPerMillion: PRICE } });
  servers = await Promise.all(
    [0, 1, 2].map(() => fixture.startServer({ env: { USAGE_FLUSH_MS: "200", BUDGET_TEST_DAY_MS: String(DAY_MS) } })),
  );
}, 90_000);

afterAll(async () => {
  await fixture.close();
  await upstream?.close();
});

const send = (server: ServerProcess, key: string, content = PROMPT) =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content }] }),
  });

/** Database time, and when its current test "day" ends. */
async function dayClock(): Promise<{ now: number; dayEnd: number }> {
  const { rows } = await fixture.database.pool.query<{ now: string }>("SELECT extract(epoch FROM now()) * 1000 AS now");
  const now = Number(rows[0]!.now);
  return { now, dayEnd: now - (now % DAY_MS) + DAY_MS };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

it(
  "stops a key's spend within one request per instance of its daily budget at 2× its rate, and serves it again the next day",
  { timeout: 90_000 },
  async () => {
    const { key, record } = await fixture.addKey({ budgetDailyUsd: BUDGET });
    for (const server of servers) await eventually(async () => (await send(server, key)).status === 200 || false, 10_000);
    // Those warm-up requests spent part of some day: start on a fresh one, early in it.
    let clock = await dayClock();
    await sleep(clock.dayEnd - clock.now + 100);
    clock = await dayClock();
    const dayEnd = clock.dayEnd;
    // Twice the budget's rate: 2 × 20 requests over the day, a third of them from each instance, one at a time.
    const spacing = (DAY_MS / (2 * (BUDGET / COST))) * servers.length;
    const localEnd = Date.now() + (dayEnd - clock.now) - 300;
    const outcomes = await Promise.all(
      servers.map(async (server) => {
        const statuses: Array<{ status: number; error?: { message: string; type: string; code: string } }> = [];
        for (let next = Date.now(); next < localEnd; next += spacing) {
          await sleep(next - Date.now());
          const response = await send(server, key);
          const body = await response.json();
          statuses.push({ status: response.status, error: body.error });
        }
        return statuses;
      }),
    );
    const all = outcomes.flat();
    const admitted = all.filter((o) => o.status === 200).length;
    const refused = all.filter((o) => o.status === 429);
    expect(all.length).toBeGreaterThanOrEqual(36); // about 2× the budget was asked for
    expect(admitted + refused.length).toBe(all.length);
    // The documented bound: at most one request per instance beyond the budget; and the budget is not left mostly unused.
    expect(admitted * COST).toBeLessThanOrEqual(BUDGET + servers.length * COST + 1e-9);
    expect(admitted * COST).toBeGreaterThanOrEqual(BUDGET * 0.8);
    for (const refusal of refused) {
      expect(refusal.error).toEqual({
        message: "This API key's daily budget of $0.20 is used up; it resets at the start of the next day.",
        type: "insufficient_quota",
        param: null,
        code: "insufficient_quota",
      });
    }

    // The next day: served again.
    await sleep(dayEnd - (await dayClock()).now + 200);
    const again = await send(servers[0]!, key);
    expect(again.status).toBe(200);
    await again.arrayBuffer();

    // What was admitted in that day is what the usage buckets charged the key (to the cent).
    const windowStart = new Date(dayEnd - DAY_MS);
    await eventually(async () => {
      const { rows } = await fixture.database.pool.query<{ spent: number | null }>(
        "SELECT sum(cost_usd) AS spent FROM usage_buckets WHERE resolution = 60 AND key_id = $1 AND status_class = '2xx'",
        [record.id],
      );
      // warm-up (3) + the day's admitted + the one after the reset, all at $0.01.
      return Math.abs((rows[0]!.spent ?? 0) - (3 + admitted + 1) * COST) < 1e-9;
    }, 10_000);
    const { rows } = await fixture.database.pool.query<{ used: string }>(
      "SELECT used FROM quota_windows WHERE key_id = $1 AND kind = 'budget_day' AND window_start = $2",
      [record.id, windowStart],
    );
    expect(Number(rows[0]!.used)).toBe(BUDGET * 1_000_000);
  },
);

it("refuses a key over its tokens-per-minute limit with rate_limit_exceeded, fleet-wide", async () => {
  // 10 tokens a request, 100 a minute: after about ten requests across the fleet, refusals.
  const { key } = await fixture.addKey({ tpmLimit: 100 });
  for (const server of servers)
    await eventually(
      async () => (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status === 200,
    );
  const { rows } = await fixture.database.pool.query<{ s: number }>("SELECT extract(second FROM now())::float AS s");
  if (rows[0]!.s > 45) await sleep((61 - rows[0]!.s) * 1000);
  const statuses: number[] = [];
  let refusal: { error: { message: string; code: string } } | undefined;
  for (let i = 0; i < 30; i++) {
    const response = await send(servers[i % 3]!, key);
    statuses.push(response.status);
    const body = await response.json();
    if (response.status === 429) refusal = body;
  }
  const admitted = statuses.filter((s) => s === 200).length;
  expect(admitted).toBeGreaterThanOrEqual(8);
  expect(admitted).toBeLessThanOrEqual(10 + servers.length);
  expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);
  expect(refusal!.error).toMatchObject({
    message: "Rate limit reached for this API key: 100 tokens per minute.",
    code: "rate_limit_exceeded",
  });
});
