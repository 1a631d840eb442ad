import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { cacheDecision, cacheKey, ResponseCache } from "../../lib/cache/response-cache";

const pools: pg.Pool[] = [];
const caches: ResponseCache[] = [];
function newCache() {
  const pool = new pg.Pool({ connectionString: inject("databaseUrl"), max: 2 });
  pools.push(pool);
  const cache = new ResponseCache({ pool, ttlSeconds: 60, maxEntries: 100 });
  caches.push(cache);
  return cache;
}
afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  await Promise.all(pools.map((p) => p.end()));
});

describe("cacheDecision and cacheKey", () => {
  const base = { model: "m", messages: [{ role: "user", content: "hi" }] };
  it("caches deterministic non-streaming requests only, honouring the header", () => {
    expect(cacheDecision({ ...base, temperature: 0 }, undefined)).toBe("cacheable");
    expect(cacheDecision({ ...base, seed: 7 }, undefined)).toBe("cacheable");
    expect(cacheDecision({ ...base, temperature: 0.7 }, undefined)).toBe("bypass");
    expect(cacheDecision(base, undefined)).toBe("bypass");
    expect(cacheDecision(base, "force")).toBe("cacheable");
    expect(cacheDecision({ ...base, temperature: 0 }, "bypass")).toBe("bypass");
    expect(cacheDecision({ ...base, temperature: 0, stream: true }, undefined)).toBe("bypass");
  });
  it("ignores key order and fields that do not change the answer, and nothing else", () => {
    expect(cacheKey({ a: 1, b: { x: 1, y: 2 } })).toBe(cacheKey({ b: { y: 2, x: 1 }, a: 1, user: "u", stream: false }));
    expect(cacheKey({ ...base, temperature: 0 })).not.toBe(cacheKey({ ...base, temperature: 0, model: "other" }));
    expect(cacheKey({ ...base, temperature: 0 })).not.toBe(cacheKey({ ...base, temperature: 0, max_tokens: 5 }));
  });
});

describe("ResponseCache", () => {
  it("makes one upstream call for concurrent identical misses on one instance", async () => {
    const cache = newCache();
    const key = randomUUID();
    let calls = 0;
    const produce = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      return JSON.stringify({ answer: 42 });
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.getOrProduce(key, "m", produce)));
    expect(calls).toBe(1);
    expect(results.filter((r) => !r.hit)).toHaveLength(1);
    expect(new Set(results.map((r) => r.body))).toEqual(new Set([JSON.stringify({ answer: 42 })]));
  });

  it("serves one instance's answer as a hit on another through the shared table", async () => {
    const [first, second] = [newCache(), newCache()];
    const key = randomUUID();
    const stored = await first.getOrProduce(key, "m", async () => JSON.stringify({ from: "first" }));
    expect(stored.hit).toBe(false);
    await first.flush();
    const served = await second.getOrProduce(key, "m", async () => {
      throw new Error("must not call upstream");
    });
    expect(served).toEqual({ body: JSON.stringify({ from: "first" }), hit: true });
  });
});
