// The parts of leases that need no database: the embeddable fence, the margin, argument checks.
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { startLeaderElection } from "../../lib/platform/coordination/leader";
import { acquireLease, fenceCondition, fenceValues, safetyMarginMs, withLease } from "../../lib/platform/coordination/lease";

// A pool that fails the test if anything reaches it.
const untouchable = new Proxy({} as pg.Pool, {
  get(_target, property) {
    throw new Error(`the pool was used (${String(property)})`);
  },
});

describe("fenceCondition", () => {
  it("numbers its three parameters from the given position and locks the lease row", () => {
    const sql = fenceCondition(4);
    expect(sql).toContain("name = $4 AND holder = $5 AND token = $6::bigint");
    expect(sql).toContain("expires_at > clock_timestamp()");
    expect(sql).toMatch(/FOR SHARE\)$/);
    expect(sql).not.toMatch(/\$[1-37-9]/);
  });

  it("rejects a parameter position that is not a positive integer", () => {
    expect(() => fenceCondition(0)).toThrow(RangeError);
    expect(() => fenceCondition(1.5)).toThrow(RangeError);
  });

  it("gives its values in the same order, the token as exact decimal text", () => {
    expect(fenceValues({ name: "n", holder: "h", token: 9_007_199_254_740_993n })).toEqual(["n", "h", "9007199254740993"]);
  });
});

describe("safetyMarginMs", () => {
  it("is a tenth of the TTL, at least 1 ms and at most 1 s", () => {
    expect(safetyMarginMs(5)).toBe(1);
    expect(safetyMarginMs(300)).toBe(30);
    expect(safetyMarginMs(60_000)).toBe(1_000);
  });
});

describe("argument checks, before any query", () => {
  it("acquireLease refuses a bad TTL or an empty holder", async () => {
    await expect(acquireLease(untouchable, "x", { holder: "a", ttlMs: 5 })).rejects.toThrow(RangeError);
    await expect(acquireLease(untouchable, "x", { holder: "a", ttlMs: 25 * 60 * 60 * 1000 })).rejects.toThrow(RangeError);
    await expect(acquireLease(untouchable, "x", { holder: "", ttlMs: 1_000 })).rejects.toThrow(TypeError);
  });

  it("withLease refuses a renewal interval that would not renew in time", async () => {
    const fn = async () => "never";
    await expect(withLease(untouchable, "x", { holder: "a", ttlMs: 300, renewEveryMs: 280 }, fn)).rejects.toThrow(/renewEveryMs/);
    await expect(withLease(untouchable, "x", { holder: "a", ttlMs: 300, renewEveryMs: 0 }, fn)).rejects.toThrow(/renewEveryMs/);
  });

  it("startLeaderElection refuses a check interval of half the TTL or more", () => {
    expect(() => startLeaderElection({ pool: untouchable, holder: "a", ttlMs: 300, checkEveryMs: 150 })).toThrow(/checkEveryMs/);
  });
});
