import { describe, expect, it } from "vitest";
import { planGrid, points } from "../../lib/metrics/query/grid";
import { histogramQuantile } from "../../lib/metrics/query/histogram";
import { choosePlan } from "../../lib/metrics/query/postgres";

const at = (iso: string) => new Date(iso);
const RETENTION = { 10: 6 * 3_600, 60: 7 * 86_400, 600: 90 * 86_400 };

describe("planGrid", () => {
  it("rounds the step up to a multiple of 10 s and aligns the start to the step's coarsest rollup", () => {
    expect(planGrid({ start: at("2026-01-01T10:07:23Z"), end: at("2026-01-01T11:07:23Z"), stepSeconds: 60 })).toEqual({
      startMs: at("2026-01-01T10:07:00Z").getTime(),
      stepSeconds: 60,
      count: 61,
    });
    expect(planGrid({ start: at("2026-01-01T10:07:23Z"), end: at("2026-01-01T10:08:00Z"), stepSeconds: 1 })).toEqual({
      startMs: at("2026-01-01T10:07:20Z").getTime(),
      stepSeconds: 10,
      count: 4,
    });
    expect(planGrid({ start: at("2026-01-01T10:07:23Z"), end: at("2026-01-02T10:07:23Z"), stepSeconds: 600 }).startMs).toBe(at("2026-01-01T10:00:00Z").getTime());
    // 50 s tiles neither minutes nor 10 minutes: aligned to 10 s only.
    expect(planGrid({ start: at("2026-01-01T10:07:23Z"), end: at("2026-01-01T10:08:23Z"), stepSeconds: 50 }).startMs).toBe(at("2026-01-01T10:07:20Z").getTime());
  });

  it("refuses an empty range, a non-positive step and more points than Prometheus serves", () => {
    const start = at("2026-01-01T00:00:00Z");
    expect(() => planGrid({ start, end: start, stepSeconds: 10 })).toThrow(RangeError);
    expect(() => planGrid({ start, end: at("2026-01-02T00:00:00Z"), stepSeconds: 0 })).toThrow(RangeError);
    expect(() => planGrid({ start, end: at("2026-01-08T00:00:00Z"), stepSeconds: 10 })).toThrow(/at most 11000/);
  });

  it("marks missing and non-finite values as gaps", () => {
    const grid = { startMs: 0, stepSeconds: 10, count: 4 };
    expect(points(grid, (i) => [1, null, undefined, Number.NaN][i])).toEqual([
      { t: 0, v: 1 },
      { t: 10_000, v: null },
      { t: 20_000, v: null },
      { t: 30_000, v: null },
    ]);
  });
});

describe("histogramQuantile", () => {
  const bounds = [0.1, 0.5, 1];

  it("interpolates inside the bucket holding the rank, as Prometheus does", () => {
    // 10 under 0.1 s, 80 between 0.1 and 0.5, 10 between 0.5 and 1.
    expect(histogramQuantile(0.5, bounds, [10, 80, 10, 0])).toBeCloseTo(0.1 + 0.4 * (40 / 80), 12);
    expect(histogramQuantile(0.95, bounds, [10, 80, 10, 0])).toBeCloseTo(0.5 + 0.5 * (5 / 10), 12);
    expect(histogramQuantile(0.05, bounds, [10, 80, 10, 0])).toBeCloseTo(0.05, 12);
  });

  it("answers the highest finite bound when the rank is in +Inf, and null without observations", () => {
    expect(histogramQuantile(0.99, bounds, [1, 1, 1, 97])).toBe(1);
    expect(histogramQuantile(0.5, bounds, [0, 0, 0, 0])).toBeNull();
    expect(() => histogramQuantile(0.5, bounds, [1, 2])).toThrow(RangeError);
  });

  it("merges instances by adding buckets, which averaging their percentiles would not equal", () => {
    const a = [0, 90, 10, 0];
    const b = [100, 0, 0, 0];
    const merged = a.map((v, i) => v + b[i]!);
    const p95 = histogramQuantile(0.95, bounds, merged)!;
    expect(p95).toBeCloseTo(0.5 + 0.5 * (0.95 * 200 - 190) / 10, 12);
    const averaged = (histogramQuantile(0.95, bounds, a)! + histogramQuantile(0.95, bounds, b)!) / 2;
    expect(p95).toBeCloseTo(0.5, 12);
    expect(averaged).toBeCloseTo((0.75 + 0.095) / 2, 12);
  });
});

describe("choosePlan (PostgreSQL resolution)", () => {
  const now = at("2026-06-01T12:00:00Z").getTime();
  const range = (hoursBack: number, stepSeconds: number) => ({ start: new Date(now - hoursBack * 3_600_000), end: new Date(now), stepSeconds });

  it("uses the coarsest resolution that tiles the step", () => {
    expect(choosePlan(range(1, 10), RETENTION, now).resolution).toBe(10);
    expect(choosePlan(range(1, 30), RETENTION, now).resolution).toBe(10);
    expect(choosePlan(range(6, 60), RETENTION, now).resolution).toBe(60);
    expect(choosePlan(range(24, 120), RETENTION, now).resolution).toBe(60);
    expect(choosePlan(range(24, 600), RETENTION, now).resolution).toBe(600);
  });

  it("falls back to a retained resolution, on a coarser grid, when the fitting one was pruned", () => {
    // 10 s rows are kept 6 h: a 24 h range at 10 s steps comes from the 1 min rows, a point a minute.
    const plan = choosePlan(range(24, 10), RETENTION, now);
    expect(plan.resolution).toBe(60);
    expect(plan.grid.stepSeconds).toBe(60);
    expect(plan.grid.count).toBe(24 * 60);
  });

  it("coarsens a 1 min step over 30 days to the 10 min rows (1 min rows are kept 7 days)", () => {
    const plan = choosePlan(range(30 * 24, 60 * 5), RETENTION, now);
    expect(plan.resolution).toBe(600);
    expect(plan.grid.stepSeconds).toBe(600);
    expect(plan.grid.startMs % 600_000).toBe(0);
  });
});
