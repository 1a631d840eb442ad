import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { claimSize, FleetRateLimiter } from "../../lib/data-plane/gateway/rate-limiter";
import { awayFromMinuteEnd } from "../helpers/rate-window";

const pools: pg.Pool[] = [];
const newPool = (url = inject("databaseUrl")) => {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on("error", () => {});
  pools.push(pool);
  return pool;
};
afterAll(async () => Promise.all(pools.map((p) => p.end())));

describe("FleetRateLimiter", () => {
  let instances: FleetRateLimiter[];
  beforeAll(() => {
    instances = [0, 1, 2].map(() => new FleetRateLimiter({ pool: newPool(), instanceCount: () => 3 }));
  });

  it("admits at most the limit across three instances, and no less than 90% of it, under concurrent bursts", async () => {
    await awayFromMinuteEnd(pools[0]!);
    const keyId = randomUUID();
    const limit = 300;
    // 3 instances × 200 concurrent requests each = 2× the limit, arriving together.
    const results = await Promise.all(
      instances.flatMap((limiter) => Array.from({ length: 200 }, () => Promise.resolve(limiter.admit(keyId, limit)))),
    );
    const admitted = results.filter((r) => r.allowed).length;
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit * 0.9);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    const { rows } = await pools[0]!.query("SELECT used FROM rate_limit_windows WHERE key_id = $1", [keyId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].used).toBeLessThanOrEqual(limit);
  });

  it("admits between 90% and 100% of the limit across forty instances, each claiming its fleet share, under a 2× burst", async () => {
    await awayFromMinuteEnd(pools[0]!);
    // Forty limiters on two shared pools (the test database's connections are not forty's to spare);
    // each claim is still its own statement, as on forty processes.
    const shared = [newPool(), newPool()];
    const fleet = Array.from({ length: 40 }, (_, i) => new FleetRateLimiter({ pool: shared[i % 2]!, instanceCount: () => 40 }));
    const keyId = randomUUID();
    const limit = 400;
    const results = await Promise.all(
      fleet.flatMap((limiter) => Array.from({ length: 20 }, () => Promise.resolve(limiter.admit(keyId, limit)))),
    );
    const admitted = results.filter((r) => r.allowed).length;
    expect(admitted).toBeLessThanOrEqual(limit);
    expect(admitted).toBeGreaterThanOrEqual(limit * 0.9);
    const { rows } = await pools[0]!.query("SELECT used FROM rate_limit_windows WHERE key_id = $1", [keyId]);
    expect(rows[0].used).toBeLessThanOrEqual(limit);
  });

  it("sizes a claim as a share of what is left for the whole fleet: one to a hundred permits", () => {
    expect(claimSize(400, 40)).toBe(5);
    expect(claimSize(60, 40)).toBe(1);
    expect(claimSize(0, 3)).toBe(1);
    expect(claimSize(100_000, 3)).toBe(100);
    expect(claimSize(1_000, 0)).toBe(100);
  });

  it("keeps admitting locally without a database call while it holds permits", async () => {
    await awayFromMinuteEnd(pools[0]!);
    const keyId = randomUUID();
    const limiter = instances[0]!;
    const first = limiter.admit(keyId, 1_000);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).allowed).toBe(true);
    // The first claim took a batch (1000 ÷ (2 × 3) capped at 100): the next requests are answered synchronously.
    const next = limiter.admit(keyId, 1_000);
    expect(next).not.toBeInstanceOf(Promise);
    expect((next as { allowed: boolean }).allowed).toBe(true);
  });

  it("falls back to an equal local share of the limit while the database is unreachable", async () => {
    const deadPool = newPool("postgresql://postgres@127.0.0.1:1/none");
    const errors: Error[] = [];
    const limiter = new FleetRateLimiter({ pool: deadPool, instanceCount: () => 4, onDatabaseError: (e) => errors.push(e) });
    const keyId = randomUUID();
    const results = [];
    for (let i = 0; i < 40; i++) results.push(await limiter.admit(keyId, 100));
    expect(results.filter((r) => r.allowed)).toHaveLength(25);
    expect(errors.length).toBeGreaterThan(0);
  });
});
