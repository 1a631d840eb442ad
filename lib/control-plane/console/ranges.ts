// The overview's time ranges and their resolution. Pure, client-safe.
import type { RangeKey } from "./contracts";

/**
 * Duration and step per range: 60–100 points each, steps a multiple of the metrics' 10 s
 * buckets (the sources answer on such a grid; see lib/platform/metrics-history/query/grid.ts),
 * and from 6 hours on a multiple of a rollup resolution (1 min, 10 min), so that the PostgreSQL
 * source reads one rolled-up row per instance and step instead of tens of 10 s rows.
 */
export const RANGE_SPECS: Record<RangeKey, { label: string; seconds: number; stepSeconds: number }> = {
  "15m": { label: "15 minutes", seconds: 15 * 60, stepSeconds: 10 },
  "1h": { label: "1 hour", seconds: 3_600, stepSeconds: 60 },
  "6h": { label: "6 hours", seconds: 6 * 3_600, stepSeconds: 300 },
  "24h": { label: "24 hours", seconds: 24 * 3_600, stepSeconds: 1_200 },
  "7d": { label: "7 days", seconds: 7 * 86_400, stepSeconds: 7_200 },
};

/** The range the overview opens with. */
export const DEFAULT_RANGE: RangeKey = "15m";

/** The snapshots' bucket: the finest time the metrics resolve, and where every window ends. */
const BUCKET_MS = 10_000;

/** The windows the "latest" tiles average over, the same at every range. */
export const RECENT_RATE_SECONDS = 60;
export const RECENT_LATENCY_SECONDS = 300;

export interface TimeWindow {
  start: Date;
  end: Date;
  stepSeconds: number;
}

/**
 * The range's steps, the newest one included while it is still filling: the window ends at the
 * last whole 10 s bucket (the newest data there can be) and starts on a step boundary, so
 * successive refreshes put the same samples in the same steps and only the last step grows.
 */
export function timeWindowFor(range: RangeKey, nowMs: number): TimeWindow {
  const { seconds, stepSeconds } = RANGE_SPECS[range];
  const stepMs = stepSeconds * 1_000;
  const end = Math.floor(nowMs / BUCKET_MS) * BUCKET_MS;
  const lastStepEnd = Math.ceil(end / stepMs) * stepMs;
  return { start: new Date(lastStepEnd - seconds * 1_000), end: new Date(end), stepSeconds };
}

/** The `seconds` before the window's end, for the tiles that read the same span at every range. */
export function recentWindow(end: Date, seconds: number): { start: Date; end: Date } {
  return { start: new Date(end.getTime() - seconds * 1_000), end };
}
