// Usage accounting across a fleet: three real server processes on one database take a known mix of
// traffic — two keys, two models at different prices (one a built-in default, one set as the
// console sets it), JSON and streams (the client not asking for usage), cache hits and refusals —
// and the minute buckets in PostgreSQL and the Prometheus spend counters add up to exactly what
// the mix costs: every request, every token, every cent (checked to a nano-dollar).
import { afterAll, beforeAll, expect, it } from "vitest";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import { sample } from "../helpers/prometheus-text";
import type { ServerProcess } from "../helpers/server-process";
import { DEFAULT_PRICES } from "../../lib/data-plane/usage/prices";

const fixture = new GatewayFixture();
const cheap = unique("acct-cheap"); // upstream gpt-4o-mini: the default price
const custom = unique("acct-custom"); // upstream gpt-4o, priced in model_prices under its public name
const CUSTOM_PRICE = { input: 3, output: 7 };
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
    deployments: [
      { modelName: cheap, upstreamModel: "gpt-4o-mini" },
      { modelName: custom, upstreamModel: "gpt-4o" },
    ],
  });
  await fixture.prisma.modelPrice.create({
    data: { model: custom, inputPerMillion: CUSTOM_PRICE.input, outputPerMillion: CUSTOM_PRICE.output },
  });
  servers = await Promise.all([0, 1, 2].map(() => fixture.startServer({ env: { USAGE_FLUSH_MS: "200" } })));
});

afterAll(async () => {
  await fixture.close();
  await upstream?.close();
});

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
/** The stand-in answers "[U] echo: <text>": two words more than the prompt. */
const tokensOf = (text: string) => ({ prompt: words(text), completion: words(text) + 2 });

interface Expected {
  requests: number;
  prompt: number;
  completion: number;
  cost: number;
  hits: number;
  saved: number;
}
const zero = (): Expected => ({ requests: 0, prompt: 0, completion: 0, cost: 0, hits: 0, saved: 0 });

it("counts every request, token and cent of a known mix across three instances, in PostgreSQL and on /metrics", async () => {
  const keys = [await fixture.addKey(), await fixture.addKey()];
  const prices = {
    [cheap]: { input: DEFAULT_PRICES["gpt-4o-mini"]!.inputPerMillion, output: DEFAULT_PRICES["gpt-4o-mini"]!.outputPerMillion },
    [custom]: CUSTOM_PRICE,
  };
  for (const server of servers) {
    for (const { key } of keys) {
      await eventually(
        async () => (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status === 200,
      );
    }
  }
  const spentBefore = await spendOnMetrics([cheap, custom]);

  const expected = new Map<string, Expected>(); // `${keyId} ${model}`
  const add = (keyId: string, model: string, change: Partial<Expected>) => {
    const entry = expected.get(`${keyId} ${model}`) ?? zero();
    for (const [field, value] of Object.entries(change)) entry[field as keyof Expected] += value;
    expected.set(`${keyId} ${model}`, entry);
  };
  const costOf = (model: string, text: string) => {
    const t = tokensOf(text);
    return (t.prompt * prices[model]!.input + t.completion * prices[model]!.output) / 1e6;
  };
  const post = (server: ServerProcess, key: string, body: object) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  for (const [s, server] of servers.entries()) {
    for (const [k, { key, record }] of keys.entries()) {
      // JSON answers, different lengths per instance and key.
      for (const model of [cheap, custom]) {
        const text = `instance ${s} key ${k} ${model} ${"word ".repeat(3 + s * 2 + k)}`;
        const response = await post(server, key, { model, messages: [{ role: "user", content: text }] });
        expect(response.status).toBe(200);
        expect((await response.json()).usage).toMatchObject({
          prompt_tokens: tokensOf(text).prompt,
          completion_tokens: tokensOf(text).completion,
        });
        add(record.id, model, {
          requests: 1,
          prompt: tokensOf(text).prompt,
          completion: tokensOf(text).completion,
          cost: costOf(model, text),
        });
      }
      // A stream whose client did not ask for usage: counted all the same, and no usage is sent to it.
      const streamed = `stream ${s} ${k} ${"token ".repeat(5 + k)}`;
      const stream = await post(server, key, { model: custom, stream: true, messages: [{ role: "user", content: streamed }] });
      const events = await stream.text();
      expect(events).toContain("data: [DONE]");
      expect(events).not.toContain('"usage"');
      add(record.id, custom, {
        requests: 1,
        prompt: tokensOf(streamed).prompt,
        completion: tokensOf(streamed).completion,
        cost: costOf(custom, streamed),
      });
      // The same cacheable request twice on one instance: one upstream answer, one hit that saved its cost.
      const cached = `cache me ${s} ${k} please`;
      for (const expectedCache of ["miss", "hit"]) {
        const response = await post(server, key, { model: cheap, temperature: 0, messages: [{ role: "user", content: cached }] });
        expect(response.headers.get("x-agenticorp-cache")).toBe(expectedCache);
        await response.arrayBuffer();
      }
      add(record.id, cheap, {
        requests: 2,
        prompt: tokensOf(cached).prompt,
        completion: tokensOf(cached).completion,
        cost: costOf(cheap, cached),
        hits: 1,
        saved: costOf(cheap, cached),
      });
      // A refusal: a request, no tokens.
      expect((await post(server, key, { model: "no-such-model", messages: [{ role: "user", content: "x" }] })).status).toBe(404);
      add(record.id, "unknown", { requests: 1 });
    }
  }

  const keyIds = keys.map((k) => k.record.id);
  const read = async () => {
    const { rows } = await fixture.database.pool.query<{
      key_id: string;
      model: string;
      requests: string;
      prompt: string;
      completion: string;
      cost: number;
      hits: string;
      saved: number;
    }>(
      `SELECT key_id, model, sum(requests) AS requests, sum(prompt_tokens) AS prompt, sum(completion_tokens) AS completion,
         sum(cost_usd) AS cost, sum(cache_hits) AS hits, sum(saved_usd) AS saved
       FROM usage_buckets WHERE resolution = 60 AND key_id = ANY($1::uuid[]) GROUP BY key_id, model`,
      [keyIds],
    );
    return new Map(rows.map((r) => [`${r.key_id} ${r.model}`, r]));
  };
  const total = [...expected.values()].reduce((sum, e) => sum + e.requests, 0);
  await eventually(async () => [...(await read()).values()].reduce((sum, r) => sum + Number(r.requests), 0) === total, 10_000);

  const stored = await read();
  expect([...stored.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, e] of expected) {
    const row = stored.get(id)!;
    expect({
      id,
      requests: Number(row.requests),
      prompt: Number(row.prompt),
      completion: Number(row.completion),
      hits: Number(row.hits),
    }).toEqual({
      id,
      requests: e.requests,
      prompt: e.prompt,
      completion: e.completion,
      hits: e.hits,
    });
    expect(Math.abs(row.cost - e.cost)).toBeLessThan(1e-9);
    expect(Math.abs(row.saved - e.saved)).toBeLessThan(1e-9);
  }
  // The refusals are 4xx rows answered by no deployment; the answers are 2xx.
  const { rows: classes } = await fixture.database.pool.query<{ status_class: string; deployment: string; requests: string }>(
    `SELECT status_class, deployment, sum(requests) AS requests FROM usage_buckets WHERE resolution = 60 AND key_id = ANY($1::uuid[])
     GROUP BY status_class, deployment ORDER BY status_class, deployment`,
    [keyIds],
  );
  expect(classes.map((c) => [c.status_class, c.deployment.replace(/^u-[0-9a-f]+\//, "u/"), Number(c.requests)])).toEqual([
    ["2xx", "cache", 6],
    ["2xx", "u/gpt-4o", 12],
    ["2xx", "u/gpt-4o-mini", 12],
    ["4xx", "none", 6],
  ]);

  // Prometheus: the same spend per model, summed over the instances (no key label by default).
  const spentAfter = await spendOnMetrics([cheap, custom]);
  for (const model of [cheap, custom]) {
    const expectedSpend = [...expected.entries()]
      .filter(([id]) => id.endsWith(` ${model}`))
      .reduce((sum, [, e]) => sum + e.cost, 0);
    expect(Math.abs(spentAfter[model]! - spentBefore[model]! - expectedSpend)).toBeLessThan(1e-9);
  }
  const metricsText = await (await fetch(`${servers[0]!.url}/metrics`)).text();
  expect(metricsText).not.toContain("agenticorp_key_spend_usd_total{");
});

async function spendOnMetrics(models: string[]): Promise<Record<string, number>> {
  const bodies = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/metrics`)).text()));
  return Object.fromEntries(
    models.map((m) => [m, bodies.reduce((sum, body) => sum + sample(body, `agenticorp_spend_usd_total{model="${m}"}`), 0)]),
  );
}
