// The shared response-cache table stays within CACHE_SHARED_MAX_ROWS and CACHE_SHARED_MAX_BYTES:
// rows written beyond either bound are evicted by the leader, soonest-expiring first, in small
// fenced batches. A database of this file's own, so that every row counted is one written here.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { boundSharedCache, measureSharedCache } from "../../lib/data-plane/cache/shared-bound";
import { ResponseCache } from "../../lib/data-plane/cache/response-cache";
import { acquireLease, releaseLease, type Fence } from "../../lib/platform/coordination/lease";
import { Departure } from "../../lib/data-plane/gateway/waiters";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

let scratch: ScratchDatabase;
let pool: pg.Pool;
const LEASE = "leader";

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_cache_bound_${randomBytes(4).toString("hex")}`, { migrate: true });
  pool = new pg.Pool({ connectionString: scratch.url, max: 4 });
});
afterAll(async () => {
  await pool?.end();
  await scratch?.drop();
});
beforeEach(async () => {
  await pool.query(`DELETE FROM response_cache`);
  await pool.query(`DELETE FROM leases`);
});

async function lead(holder: string): Promise<Fence> {
  const lease = await acquireLease(pool, LEASE, { holder, ttlMs: 60_000 });
  if (!lease) throw new Error(`${holder} could not take the lease`);
  return lease;
}

/**
 * `count` rows whose bodies are `bodyBytes` long, row i expiring i seconds after `firstExpiry`
 * (seconds from now; negative: already expired). Written as the gateway writes them, sizes included.
 */
async function fill(prefix: string, count: number, bodyBytes: number, firstExpiry: number): Promise<void> {
  await pool.query(
    `INSERT INTO response_cache (key, model, body, expires_at, size_bytes)
     SELECT $1 || lpad(i::text, 6, '0'), 'm', repeat('x', $2), now() + make_interval(secs => $3 + i), octet_length($1 || lpad(i::text, 6, '0')) + 1 + $2
     FROM generate_series(0, $4 - 1) AS i`,
    [prefix, bodyBytes, firstExpiry, count],
  );
}

const keys = async () =>
  (await pool.query<{ key: string }>(`SELECT key FROM response_cache ORDER BY key`)).rows.map((r) => r.key);

describe("boundSharedCache", () => {
  it("deletes expired rows and evicts the soonest-expiring beyond the row bound", async () => {
    const fence = await lead("leader-a");
    await fill("gone-", 150, 10, -1_000); // all expired
    await fill("live-", 1_000, 10, 600);
    expect(await measureSharedCache(pool)).toMatchObject({ rows: 1_150 });
    const result = await boundSharedCache(pool, fence, { maxRows: 300, maxBytes: 1e12, batch: 100 });
    expect(result).toMatchObject({ expired: 150, evicted: 700, rows: 300 });
    // The 300 that expire last are kept.
    const expected = Array.from({ length: 300 }, (_, i) => `live-${String(700 + i).padStart(6, "0")}`);
    expect(await keys()).toEqual(expected);
    expect(await measureSharedCache(pool)).toEqual({ rows: 300, bytes: result!.bytes });
  });

  it("evicts until the payload bytes are within the byte bound, and not one row more", async () => {
    const fence = await lead("leader-a");
    await fill("big-", 400, 1_000, 600); // 1,011 bytes a row
    const perRow = 1_000 + "big-000000".length + 1;
    const result = await boundSharedCache(pool, fence, { maxRows: 1_000_000, maxBytes: 100 * perRow + 500, batch: 64 });
    expect(result).toMatchObject({ expired: 0, evicted: 300, rows: 100, bytes: 100 * perRow });
    const size = await measureSharedCache(pool);
    expect(size).toEqual({ rows: 100, bytes: 100 * perRow });
    expect((await keys())[0]).toBe("big-000300");
  });

  it("works a backlog off in bounded runs of small batches", async () => {
    const fence = await lead("leader-a");
    await fill("k-", 1_000, 10, 600);
    const first = await boundSharedCache(pool, fence, { maxRows: 100, maxBytes: 1e12, batch: 150, maxBatches: 3 });
    expect(first).toMatchObject({ evicted: 450, rows: 550 });
    const second = await boundSharedCache(pool, fence, { maxRows: 100, maxBytes: 1e12, batch: 150, maxBatches: 3 });
    expect(second).toMatchObject({ evicted: 450, rows: 100 });
    expect((await measureSharedCache(pool)).rows).toBe(100);
  });

  it("deletes nothing under a deposed leader's token", async () => {
    const old = await lead("leader-a");
    await releaseLease(pool, old);
    const current = await lead("leader-b");
    await fill("old-", 50, 10, -100);
    await fill("k-", 200, 10, 600);
    expect(await boundSharedCache(pool, old, { maxRows: 10, maxBytes: 1e12 })).toBeNull();
    expect((await measureSharedCache(pool)).rows).toBe(250);
    expect(await boundSharedCache(pool, current, { maxRows: 10, maxBytes: 1e12 })).toMatchObject({
      expired: 50,
      evicted: 190,
      rows: 10,
    });
  });

  it("bounds what the gateway's cache writes, sizes measured by the database", async () => {
    const fence = await lead("leader-a");
    const cache = new ResponseCache({ pool, ttlSeconds: 600, maxEntries: 0, sharedReadTimeoutMs: 2_000 });
    const body = (i: number) => JSON.stringify({ answer: "é".repeat(i) }); // two UTF-8 bytes a character
    for (let i = 0; i < 60; i++) await cache.getOrProduce(`written-${i}`, "model", new Departure(), async () => body(i));
    await cache.close();
    const stored = await pool.query<{ key: string; size_bytes: number }>(`SELECT key, size_bytes FROM response_cache`);
    expect(stored.rows).toHaveLength(60);
    for (const row of stored.rows) {
      const i = Number(row.key.slice("written-".length));
      expect(row.size_bytes).toBe(Buffer.byteLength(row.key) + "model".length + Buffer.byteLength(body(i)));
    }
    const total = stored.rows.reduce((sum, row) => sum + row.size_bytes, 0);
    const result = await boundSharedCache(pool, fence, { maxRows: 1_000, maxBytes: Math.floor(total / 2) });
    expect(result!.bytes).toBeLessThanOrEqual(Math.floor(total / 2));
    expect(await measureSharedCache(pool)).toEqual({ rows: result!.rows, bytes: result!.bytes });
  });
});
