// The time grid every query answers on, the same for both sources: points every `stepSeconds`
// (a multiple of 10 s, the snapshots' bucket), starting on a multiple of the step's coarsest rollup
// resolution (10 min, 1 min or 10 s) at or before the range's start. Point t covers [t, t + step);
// the last point may be partial when the range ends at "now".
import type { Point, TimeRange } from "./types";

export const BASE_STEP_SECONDS = 10;
/** Prometheus refuses more than 11,000 points per series; so do we, for both sources. */
export const MAX_POINTS = 11_000;
const ALIGNMENTS = [600, 60, 10] as const;

export interface Grid {
  /** Unix ms of the first point. */
  startMs: number;
  stepSeconds: number;
  count: number;
}

export function alignmentOf(stepSeconds: number): number {
  return ALIGNMENTS.find((a) => stepSeconds % a === 0) ?? BASE_STEP_SECONDS;
}

export function planGrid(range: TimeRange): Grid {
  const start = range.start.getTime();
  const end = range.end.getTime();
  if (!(Number.isFinite(start) && Number.isFinite(end) && end > start))
    throw new RangeError("A time range must end after it starts");
  if (!(range.stepSeconds > 0)) throw new RangeError("A time range needs a positive step");
  const stepSeconds = Math.max(BASE_STEP_SECONDS, Math.ceil(range.stepSeconds / BASE_STEP_SECONDS) * BASE_STEP_SECONDS);
  return gridFrom(start, end, stepSeconds, alignmentOf(stepSeconds));
}

/** A grid covering [startMs, endMs) with points aligned to `alignSeconds`. */
export function gridFrom(startMs: number, endMs: number, stepSeconds: number, alignSeconds: number): Grid {
  const alignMs = alignSeconds * 1000;
  const alignedStart = Math.floor(startMs / alignMs) * alignMs;
  const count = Math.ceil((endMs - alignedStart) / (stepSeconds * 1000));
  if (count > MAX_POINTS) throw new RangeError(`${count} points requested; at most ${MAX_POINTS} (use a larger step)`);
  return { startMs: alignedStart, stepSeconds, count };
}

export function pointTime(grid: Grid, index: number): number {
  return grid.startMs + index * grid.stepSeconds * 1000;
}

/** The grid's points, each taking its value from `value(index)` (null: a gap). */
export function points(grid: Grid, value: (index: number) => number | null | undefined): Point[] {
  return Array.from({ length: grid.count }, (_, i) => {
    const v = value(i);
    return { t: pointTime(grid, i), v: v === undefined || v === null || !Number.isFinite(v) ? null : v };
  });
}
