import { describe, expect, it } from "vitest";
import { planGrid, points } from "../../lib/platform/metrics-history/query/grid";
import { histogramQuantile } from "../../lib/platform/metrics-history/query/histogram";
import { choosePlan, tierBoundaries, type Plan } from "../../lib/platform/metrics-history/query/postgres";

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
    expect(planGrid({ start: at("2026-01-01T10:07:23Z"), end: at("2026-01-02T10:07:23Z"), stepSeconds: 600 }).startMs).toBe(
      at("2026-01-01T10:00:00Z").getTime(),
    );
    // 50 s tiles neither minutes nor 10 minutes: aligned to 10 s only.
    expect(planGrid({ start: at("2026-01-01T10:07:23Z"), end: at("2026-01-01T10:08:23Z"), stepSeconds: 50 }).startMs).toBe(
      at("2026-01-01T10:07:20Z").getTime(),
    );
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
    expect(p95).toBeCloseTo(0.5 + (0.5 * (0.95 * 200 - 190)) / 10, 12);
    const averaged = (histogramQuantile(0.95, bounds, a)! + histogramQuantile(0.95, bounds, b)!) / 2;
    expect(p95).toBeCloseTo(0.5, 12);
    expect(averaged).toBeCloseTo((0.75 + 0.095) / 2, 12);
  });
});

describe("choosePlan (PostgreSQL resolutions stitched)", () => {
  const now = at("2026-06-01T12:00:07Z").getTime();
  const range = (hoursBack: number, stepSeconds: number) => ({
    start: new Date(now - hoursBack * 3_600_000),
    end: new Date(now),
    stepSeconds,
  });
  const resolutions = (plan: Plan) => plan.parts.map((p) => p.resolution);
  // Rows are whole 10 s buckets: a range ending inside one reads it to its end.
  const rowsEnd = Math.ceil(now / 10_000) * 10_000;

  it("places the tier boundaries by clock and retention only, aligned to the coarser tier, inside retention", () => {
    const { b10, b60 } = tierBoundaries(RETENTION, now);
    expect(b10 % 60_000).toBe(0);
    expect(b60 % 600_000).toBe(0);
    expect(b10).toBeGreaterThan(now - 6 * 3_600_000);
    expect(b10 - (now - 6 * 3_600_000)).toBeLessThanOrEqual(120_000);
    expect(b60).toBeGreaterThan(now - 7 * 86_400_000);
    expect(b60).toBeLessThan(b10);
  });

  it("reads 10 s rows for recent time at every range: a coarse row is never read for the last 6 hours", () => {
    const { b10 } = tierBoundaries(RETENTION, now);
    for (const [hours, step] of [
      [0.25, 10],
      [1, 60],
      [6, 300],
      [24, 900],
      [168, 7_200],
    ] as const) {
      const plan = choosePlan(range(hours, step), RETENTION, now);
      const newest = plan.parts.at(-1)!;
      expect(newest).toEqual({ resolution: 10, fromMs: Math.max(plan.grid.startMs, b10), toMs: rowsEnd });
    }
    expect(resolutions(choosePlan(range(1, 60), RETENTION, now))).toEqual([10]);
    expect(resolutions(choosePlan(range(24, 900), RETENTION, now))).toEqual([60, 10]);
    expect(resolutions(choosePlan(range(168, 7_200), RETENTION, now))).toEqual([600, 60, 10]);
  });

  it("reads the coarsest rows that fit the step where they are complete, finer rows only after that", () => {
    // Between two rollups: the newest 10 s buckets and the minute they feed are not rolled up yet.
    const oldestDirtyTen = Math.floor((now - 15_000) / 10_000) * 10_000;
    const complete = { 10: oldestDirtyTen, 60: oldestDirtyTen, 600: Math.floor(oldestDirtyTen / 60_000) * 60_000 };
    const parts = (hours: number, step: number) =>
      choosePlan(range(hours, step), RETENTION, now, complete).parts.map((p) => [p.resolution, p.toMs]);
    const tenMinutes = Math.floor(complete[600] / 600_000) * 600_000;
    const minute = Math.floor(complete[60] / 60_000) * 60_000;
    expect(parts(24, 1_200)).toEqual([
      [600, tenMinutes],
      [60, minute],
      [10, rowsEnd],
    ]);
    expect(parts(6, 300)).toEqual([
      [60, minute],
      [10, rowsEnd],
    ]);
    // 15 min steps do not tile 10 min rows: 1 min rows. 10 s steps: 10 s rows, however complete the rest is.
    expect(parts(24, 900)).toEqual([
      [60, minute],
      [10, rowsEnd],
    ]);
    expect(parts(0.25, 10)).toEqual([[10, rowsEnd]]);
    // Nothing dirty: the coarse rows reach the last boundary before the range's end (12:00:07; a minute and ten at 12:00).
    const all = { 10: Infinity, 60: Infinity, 600: Infinity };
    expect(choosePlan(range(24, 1_200), RETENTION, now, all).parts.map((p) => [p.resolution, p.toMs])).toEqual([
      [600, at("2026-06-01T12:00:00Z").getTime()],
      [10, rowsEnd],
    ]);
  });

  it("tiles the grid's span with its parts, without overlap or hole", () => {
    for (const [hours, step] of [
      [6, 300],
      [24, 900],
      [168, 7_200],
      [30 * 24, 3_600],
    ] as const) {
      const plan = choosePlan(range(hours, step), RETENTION, now);
      expect(plan.parts[0]!.fromMs).toBe(plan.grid.startMs);
      expect(plan.parts.at(-1)!.toMs).toBe(rowsEnd);
      for (let i = 1; i < plan.parts.length; i++) expect(plan.parts[i]!.fromMs).toBe(plan.parts[i - 1]!.toMs);
      // Each part starts and ends on its own rows' boundaries (the range's end excepted), so no row straddles two parts.
      for (const p of plan.parts) {
        expect(p.fromMs % (p.resolution * 1000)).toBe(0);
        if (p.toMs !== rowsEnd) expect(p.toMs % (p.resolution * 1000)).toBe(0);
      }
    }
  });

  it("keeps the step when it tiles the coarsest rows needed, coarsens it when it does not", () => {
    expect(choosePlan(range(6, 300), RETENTION, now).grid.stepSeconds).toBe(300);
    // 10 s steps over a day: the part older than 6 h has 1 min rows only.
    const plan = choosePlan(range(24, 10), RETENTION, now);
    expect(plan.grid.stepSeconds).toBe(60);
    expect(plan.grid.count).toBe(24 * 60 + 1);
    // 5 min steps over 30 days: 10 min rows before 7 days.
    const month = choosePlan(range(30 * 24, 300), RETENTION, now);
    expect(month.grid.stepSeconds).toBe(600);
    expect(month.grid.startMs % 600_000).toBe(0);
  });

  it("keeps the partial newest step: the grid reaches the range's end", () => {
    const plan = choosePlan(
      {
        start: new Date(now - 7 * 86_400_000 + 7_000 - 7_000),
        end: new Date(Math.floor(now / 10_000) * 10_000),
        stepSeconds: 7_200,
      },
      RETENTION,
      now,
    );
    const gridEnd = plan.grid.startMs + plan.grid.count * plan.grid.stepSeconds * 1000;
    expect(gridEnd).toBeGreaterThanOrEqual(plan.endMs);
    expect(gridEnd - plan.endMs).toBeLessThan(7_200_000);
  });
});
