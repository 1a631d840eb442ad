import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { cacheDecision, cacheKey, ResponseCache } from "../../lib/cache/response-cache";
import { Departure } from "../../lib/gateway/waiters";

/** A client of the cache that can hang up when the test says so. */
class TestClient extends Departure {
  hangUp(): void {
    this.leave();
  }
}
const waiting = () => new TestClient();

/** Waits (bounded) until `check` holds: production starts after the shared table's read. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

const pools: pg.Pool[] = [];
const caches: ResponseCache[] = [];
function newCache(scope: "key" | "fleet" = "key") {
  const pool = new pg.Pool({ connectionString: inject("databaseUrl"), max: 2 });
  pools.push(pool);
  // A new pool connects during its first read: on a loaded machine that alone can outlast the
  // product's 50 ms read budget, which would turn the shared-table hit under test into a miss.
  const cache = new ResponseCache({ pool, ttlSeconds: 60, maxEntries: 100, scope, sharedReadTimeoutMs: 2_000 });
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
  it("keeps each API key's entries apart unless the scope is the fleet", () => {
    const body = { ...base, temperature: 0 };
    const [perKey, fleet] = [newCache("key"), newCache("fleet")];
    expect(perKey.keyFor(body, "key-a")).not.toBe(perKey.keyFor(body, "key-b"));
    expect(perKey.keyFor(body, "key-a")).toBe(perKey.keyFor({ ...body }, "key-a"));
    expect(fleet.keyFor(body, "key-a")).toBe(fleet.keyFor(body, "key-b"));
    expect(fleet.keyFor(body, "key-a")).toBe(cacheKey(body));
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
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.getOrProduce(key, "m", waiting(), produce)));
    expect(calls).toBe(1);
    expect(results.filter((r) => !r.hit)).toHaveLength(1);
    expect(new Set(results.map((r) => r.body))).toEqual(new Set([JSON.stringify({ answer: 42 })]));
  });

  it("serves one instance's answer as a hit on another through the shared table", async () => {
    const [first, second] = [newCache(), newCache()];
    const key = randomUUID();
    const stored = await first.getOrProduce(key, "m", waiting(), async () => JSON.stringify({ from: "first" }));
    expect(stored.hit).toBe(false);
    await first.flush();
    const served = await second.getOrProduce(key, "m", waiting(), async () => {
      throw new Error("must not call upstream");
    });
    expect(served).toEqual({ body: JSON.stringify({ from: "first" }), hit: true });
  });

  it("keeps a shared upstream call going while any caller waits, and gives it up when the last has gone", async () => {
    const cache = newCache();
    const key = randomUUID();
    let release!: (body: string) => void;
    let sharedWaiters: { gone: boolean } | undefined;
    const produce = (waiters: { gone: boolean }) => {
      sharedWaiters = waiters;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const [leader, follower] = [waiting(), waiting()];
    const leading = cache.getOrProduce(key, "m", leader, produce);
    await until(() => sharedWaiters !== undefined);
    const following = cache.getOrProduce(key, "m", follower, produce);
    leader.hangUp();
    expect(sharedWaiters!.gone).toBe(false);
    release(JSON.stringify({ answer: 1 }));
    expect(await following).toEqual({ body: JSON.stringify({ answer: 1 }), hit: true });
    expect((await leading).body).toBe(JSON.stringify({ answer: 1 }));

    const otherKey = randomUUID();
    const [a, b] = [waiting(), waiting()];
    sharedWaiters = undefined;
    const abandoned = [cache.getOrProduce(otherKey, "m", a, produce), cache.getOrProduce(otherKey, "m", b, produce)];
    await until(() => sharedWaiters !== undefined);
    const group = sharedWaiters!;
    a.hangUp();
    expect(group.gone).toBe(false);
    b.hangUp();
    expect(group.gone).toBe(true);
    // A newcomer does not join a call being given up: it starts its own.
    const newcomer = cache.getOrProduce(otherKey, "m", waiting(), produce);
    await until(() => sharedWaiters !== group);
    release(JSON.stringify({ answer: 2 }));
    expect(await newcomer).toEqual({ body: JSON.stringify({ answer: 2 }), hit: false });
    // The abandoned call is the producer's to end (the gateway cancels its attempt); nobody awaits it here.
    void abandoned;
  });
});
