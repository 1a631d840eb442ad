// FleetAllowance's arithmetic with an in-memory counter standing in for the quota table: batches,
// debt claimed back, exhaustion, a new window, and the overshoot bound for spend known afterwards.
import { describe, expect, it } from "vitest";
import { type Claim, FleetAllowance } from "../../lib/data-plane/gateway/fleet-allowance";

/** The shared counter of one window: what the SQL does, in memory (never grants past the limit). */
function counter(windowMs: number, clock: () => number) {
  const used = new Map<string, number>();
  const claims: number[] = [];
  const claim = async (keyId: string, want: number, limit: number): Promise<Claim | null> => {
    const start = clock() - (clock() % windowMs);
    const id = `${keyId}@${start}`;
    const before = used.get(id) ?? 0;
    if (before >= limit) return null;
    const granted = Math.min(want, limit - before);
    used.set(id, before + granted);
    claims.push(granted);
    return { granted, used: before + granted, windowStartMs: start, windowEndMs: start + windowMs, nowMs: clock() };
  };
  return { claim, used, claims };
}

describe("FleetAllowance", () => {
  it("takes one permit per admission and never admits more than the limit across instances", async () => {
    let now = 1_000;
    const shared = counter(60_000, () => now);
    const instances = [0, 1, 2].map(
      () =>
        new FleetAllowance({
          claim: shared.claim,
          instanceCount: () => 3,
          maxBatch: 100,
          fallbackWindowMs: 60_000,
          now: () => now,
        }),
    );
    let admitted = 0;
    for (let i = 0; i < 300; i++) if ((await instances[i % 3]!.admit("k", 100, 1)).allowed) admitted++;
    expect(admitted).toBeLessThanOrEqual(100);
    expect(admitted).toBeGreaterThanOrEqual(90);
    // The next window admits again.
    now += 60_000;
    expect((await instances[0]!.admit("k", 100, 1)).allowed).toBe(true);
  });

  it("overshoots a budget spent after the fact by at most one request per instance, sending one at a time", async () => {
    const now = 5_000;
    const shared = counter(86_400_000, () => now);
    const instances = [0, 1, 2].map(
      () =>
        new FleetAllowance({
          claim: shared.claim,
          instanceCount: () => 3,
          maxBatch: Number.MAX_SAFE_INTEGER,
          fallbackWindowMs: 60_000,
          now: () => now,
        }),
    );
    const limit = 1_000;
    const cost = 37; // not a divisor of the limit: the last requests straddle it
    let spent = 0;
    for (let i = 0; i < 200; i++) {
      const instance = instances[i % 3]!;
      if ((await instance.admit("k", limit)).allowed) {
        instance.consume("k", cost);
        spent += cost;
      }
    }
    expect(spent).toBeGreaterThan(limit * 0.8);
    expect(spent).toBeLessThanOrEqual(limit + 3 * cost);
    expect(shared.used.get(`k@0`)).toBe(limit);
  });

  it("claims a debt back with the next batch, and refuses once the fleet has nothing left", async () => {
    const shared = counter(60_000, () => 0);
    const allowance = new FleetAllowance({
      claim: shared.claim,
      instanceCount: () => 1,
      maxBatch: 10,
      fallbackWindowMs: 60_000,
      now: () => 0,
    });
    expect((await allowance.admit("k", 100)).allowed).toBe(true); // claims 10 (an eighth of 100, at most 10)
    allowance.consume("k", 25); // 15 in debt
    expect((await allowance.admit("k", 100)).allowed).toBe(true);
    expect(shared.claims).toEqual([10, 10 + 15]); // the batch plus the debt
    allowance.consume("k", 100); // far beyond what is left
    expect((await allowance.admit("k", 100)).allowed).toBe(false);
    expect(allowance.admit("k", 100)).toEqual({ allowed: false, retryAfterSeconds: 60 }); // synchronous now: no more claims
  });

  it("falls back to an equal share when the counter cannot be reached", async () => {
    const failing = async (): Promise<Claim | null> => {
      throw new Error("database away");
    };
    const errors: string[] = [];
    const allowance = new FleetAllowance({
      claim: failing,
      instanceCount: () => 4,
      maxBatch: 100,
      fallbackWindowMs: 60_000,
      onDatabaseError: (e) => errors.push(e.message),
      now: () => 0,
    });
    let admitted = 0;
    for (let i = 0; i < 40; i++) if ((await allowance.admit("k", 40, 1)).allowed) admitted++;
    expect(admitted).toBe(10);
    expect(errors).toEqual(["database away"]);
  });
});
