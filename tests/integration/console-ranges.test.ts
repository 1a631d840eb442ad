// Every overview range tells the same truth over the PostgreSQL rollups. Rows are written as the
// instances and the leader would have: a recent burst in 10 s rows only (the leader has not rolled
// it up yet, as happens for the newest minutes), older traffic both in 10 s rows and in their
// 1 min / 10 min rollups, older still in rollups only. Each range must count each request once,
// from the finest rows kept for its time, including the newest, partial step.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RANGES, type RangeKey } from "../../lib/control-plane/console/contracts";
import { timeWindowFor } from "../../lib/control-plane/console/ranges";
import { PostgresMetricsSource } from "../../lib/platform/metrics-history/query/postgres";
import type { Series } from "../../lib/platform/metrics-history/query/types";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { insertRollupRows, requestsOf, type RollupRow } from "../helpers/rollup-rows";

const NOW = Date.UTC(2026, 11, 4, 12, 3, 25);
const END = Math.floor(NOW / 10_000) * 10_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const RETENTION = { 10: 6 * 3_600, 60: 7 * 86_400, 600: 90 * 86_400 };
const INSTANCES = ["truth-a", "truth-b"];
const floorTo = (ms: number, to: number) => Math.floor(ms / to) * to;

// The burst: 18 buckets of 10 s per instance, the last one the newest whole bucket; one spike.
const burst: RollupRow[] = INSTANCES.flatMap((instanceId) =>
  Array.from({ length: 18 }, (_, k) => {
    const bucket = END - (k + 1) * 10_000;
    const spike = instanceId === "truth-a" && bucket === END - MIN;
    return {
      resolution: 10,
      instanceId,
      bucket,
      requests2xx: spike ? 200 : 50,
      requests4xx: 3,
      requests5xx: 2,
      cacheHits: 3,
      cacheMisses: 2,
      cacheBypass: 50,
    } satisfies RollupRow;
  }),
);
const BURST = burst.reduce((sum, r) => sum + requestsOf(r), 0);
/** The spike's 10 s bucket, fleet-wide, per second. */
const BURST_PEAK = (200 + 5 + 55) / 10;

// 3 h ago: 10 s rows, rolled up into 1 min and 10 min rows (all three present; count once).
const h3 = floorTo(NOW - 3 * HOUR, 10 * MIN);
const threeHoursAgo: RollupRow[] = INSTANCES.flatMap((instanceId) => [
  ...Array.from({ length: 6 }, (_, k) => ({
    resolution: 10 as const,
    instanceId,
    bucket: h3 + k * 10_000,
    requests2xx: 20,
    dirty: false,
  })),
  { resolution: 60, instanceId, bucket: h3, requests2xx: 120 },
  { resolution: 600, instanceId, bucket: h3, requests2xx: 120 },
]);
// 10 h ago: the 10 s rows are pruned; 1 min rows and their 10 min rollup.
const h10 = floorTo(NOW - 10 * HOUR, 10 * MIN);
const tenHoursAgo: RollupRow[] = INSTANCES.flatMap((instanceId) => [
  { resolution: 60, instanceId, bucket: h10, requests2xx: 600 },
  { resolution: 60, instanceId, bucket: h10 + MIN, requests2xx: 600 },
  { resolution: 600, instanceId, bucket: h10, requests2xx: 1_200 },
]);
// 3 days ago: a heavy minute (a higher 1 min rate than the burst's 10 s peak), and its rollup.
const d3 = floorTo(NOW - 3 * DAY, 10 * MIN);
const threeDaysAgo: RollupRow[] = INSTANCES.flatMap((instanceId) => [
  { resolution: 60, instanceId, bucket: d3, requests2xx: 6_000 },
  { resolution: 600, instanceId, bucket: d3, requests2xx: 6_000 },
]);
// 10 days ago: only in 10 min rows, outside every range.
const tenDaysAgo: RollupRow[] = INSTANCES.map((instanceId) => ({
  resolution: 600,
  instanceId,
  bucket: floorTo(NOW - 10 * DAY, 10 * MIN),
  requests2xx: 60_000,
}));

const EXPECTED: Record<RangeKey, number> = {
  "15m": BURST,
  "1h": BURST,
  "6h": BURST + 240,
  "24h": BURST + 240 + 2_400,
  "7d": BURST + 240 + 2_400 + 12_000,
};

let scratch: ScratchDatabase;
let pool: pg.Pool;
let source: PostgresMetricsSource;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_ranges_${randomBytes(4).toString("hex")}`, { migrate: true });
  pool = new pg.Pool({ connectionString: scratch.url, max: 4 });
  await insertRollupRows(pool, [...burst, ...threeHoursAgo, ...tenHoursAgo, ...threeDaysAgo, ...tenDaysAgo]);
  source = new PostgresMetricsSource({ db: pool, retentionSeconds: RETENTION, now: () => NOW });
});
afterAll(async () => {
  await pool?.end();
  await scratch?.drop();
});

/** A rate series back into a count: each point times the seconds of its step inside the window. */
function integrate(series: Series | undefined, stepSeconds: number, endMs: number): number {
  return (series?.points ?? []).reduce((sum, p) => sum + (p.v ?? 0) * Math.min(stepSeconds, (endMs - p.t) / 1000), 0);
}

describe("every range tells the same truth", () => {
  it.each(RANGES)("%s: the request chart counts each request once, the newest partial step included", async (range) => {
    const window = timeWindowFor(range, NOW);
    const [rate] = await source.requestRate(window);
    expect(integrate(rate, window.stepSeconds, window.end.getTime())).toBeCloseTo(EXPECTED[range], 6);
    // The newest step holds the newest bucket, at its rate over the seconds elapsed in it.
    const newest = rate!.points.at(-1)!;
    expect(newest.t).toBeLessThan(END);
    expect(newest.v).not.toBeNull();
  });

  it.each(RANGES)("%s: totals are exact sums over the window, by status class and cache outcome", async (range) => {
    const window = timeWindowFor(range, NOW);
    const totals = await source.totals(window);
    expect(totals.requests).toBe(EXPECTED[range]);
    expect(totals.requests5xx).toBe(2 * 18 * 2);
    expect(totals.requests4xx).toBe(3 * 18 * 2);
    expect(totals.cacheHits).toBe(3 * 18 * 2);
    expect(totals.cacheMisses).toBe(2 * 18 * 2);
    expect(totals.cacheBypass).toBe(50 * 18 * 2);
  });

  it.each(RANGES)("%s: the same last-minute figures as every other range", async (range) => {
    const window = timeWindowFor(range, NOW);
    const lastMinute = await source.totals({ start: new Date(window.end.getTime() - MIN), end: window.end });
    expect(window.end.getTime()).toBe(END);
    expect(lastMinute.requests).toBe(6 * 2 * 55 + 150);
    expect(lastMinute.latencyP95Seconds).toBeGreaterThan(0.01);
    expect(lastMinute.latencyP95Seconds).toBeLessThanOrEqual(0.025);
  });

  it("finds peaks at the finest resolution kept, and never lower for a longer range", async () => {
    const peaks = Object.fromEntries(
      await Promise.all(RANGES.map(async (range) => [range, await source.peakRequestRate(timeWindowFor(range, NOW))] as const)),
    );
    for (const range of ["15m", "1h", "6h", "24h"] as const)
      expect(peaks[range]).toEqual({ perSecond: BURST_PEAK, resolutionSeconds: 10, at: END - MIN });
    // A week back, the heaviest minute was 3 days ago: only its 1 min rows are kept, and the peak says so.
    expect(peaks["7d"]).toEqual({ perSecond: (2 * 6_000) / 60, resolutionSeconds: 60, at: d3 });
  });

  it("charts the 7 days with gaps where nothing was stored, never zeros", async () => {
    const window = timeWindowFor("7d", NOW);
    const [rate] = await source.requestRate(window);
    const withValue = rate!.points.filter((p) => p.v !== null).map((p) => p.t);
    const stepMs = window.stepSeconds * 1000;
    const stepOf = (t: number) => floorTo(t - window.start.getTime(), stepMs) + window.start.getTime();
    expect(withValue).toEqual([...new Set([d3, h10, h3, END - 10_000].map(stepOf))].sort((a, b) => a - b));
  });

  it("splits the error rate into 5xx and 4xx, and the cache into all requests and cacheable ones", async () => {
    const window = timeWindowFor("15m", NOW);
    const [errors, cache] = await Promise.all([source.errorRate(window), source.cacheHitRate(window)]);
    const at = (series: Series[], name: string) =>
      series.find((s) => s.name === name)!.points.find((p) => p.t === END - 20_000)!.v;
    expect(at(errors, "5xx")).toBeCloseTo(4 / 110, 12);
    expect(at(errors, "4xx")).toBeCloseTo(6 / 110, 12);
    expect(at(cache, "hit_rate")).toBeCloseTo(6 / 110, 12);
    expect(at(cache, "cacheable_hit_rate")).toBeCloseTo(6 / 10, 12);
  });
});
