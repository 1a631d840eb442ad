// How much batch work an instance takes on: its WORKER_CONCURRENCY, nothing while live traffic is
// above the yield marks, halved after an upstream 429 and grown back by one a second.
import pg from "pg";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { LoadSignals } from "../../lib/data-plane/batch/load-signals";
import { BatchWorker } from "../../lib/data-plane/batch/worker";

function worker(now: { t: number }, liveInFlight: { n: number }, load: LoadSignals) {
  return new BatchWorker({
    // Never connected: currentLimit() reads only memory.
    pool: new pg.Pool({ connectionString: "postgresql://unused@127.0.0.1:1/none" }),
    owner: "test",
    concurrency: 8,
    leaseMs: 60_000,
    pollMaxMs: 5_000,
    maxAttempts: 3,
    yieldInFlight: 10,
    yieldP95Ms: 1_000,
    liveInFlight: () => liveInFlight.n,
    load,
    execute: async () => {
      throw new Error("not run here");
    },
    logger: pino({ level: "silent" }),
    now: () => now.t,
  });
}

describe("BatchWorker.currentLimit", () => {
  it("yields entirely while live requests in flight or their p95 latency are above the marks", () => {
    const now = { t: 0 };
    const live = { n: 0 };
    const load = new LoadSignals(30_000, () => now.t);
    const w = worker(now, live, load);
    expect(w.currentLimit()).toBe(8);
    live.n = 11;
    expect(w.currentLimit()).toBe(0);
    live.n = 10;
    expect(w.currentLimit()).toBe(8);
    for (let i = 0; i < 40; i++) load.recordLiveLatency(2_000);
    now.t = 1_500;
    expect(w.currentLimit()).toBe(0);
    now.t = 40_000; // the slow samples left the window
    expect(w.currentLimit()).toBe(8);
  });

  it("halves after an upstream 429 (at most once a second) and grows back by one a second without one", () => {
    const now = { t: 10_000 };
    const load = new LoadSignals(30_000, () => now.t);
    const w = worker(now, { n: 0 }, load);
    now.t = 12_000;
    load.recordUpstream429();
    expect(w.currentLimit()).toBe(4);
    now.t = 12_500;
    load.recordUpstream429();
    expect(w.currentLimit()).toBe(4);
    now.t = 13_600;
    load.recordUpstream429();
    expect(w.currentLimit()).toBe(2);
    now.t = 14_700;
    expect(w.currentLimit()).toBe(3);
    now.t = 15_000;
    expect(w.currentLimit()).toBe(3);
    for (const t of [15_800, 16_900, 18_000, 19_100, 20_200, 21_300]) {
      now.t = t;
      w.currentLimit();
    }
    expect(w.currentLimit()).toBe(8);
  });
});
