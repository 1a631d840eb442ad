// Shaping series for the charts: one row per step across the whole window, a null wherever a
// series has no sample (a gap, drawn as a gap, never as zero), and display units. Pure and
// client-safe; the chart components only render what these return.
import type { SeriesDto } from "./contracts";

export interface ChartKey {
  /** Recharts reads dotted data keys as paths; instance ids have dots, so keys are positional. */
  key: string;
  name: string;
}

export type ChartRow = { t: number } & Record<string, number | null>;

export interface ChartData {
  rows: ChartRow[];
  keys: ChartKey[];
  /** True when at least one point of one series has a value. */
  hasData: boolean;
}

/**
 * One row per time any series has a point (the source answers on its own grid, explicit nulls
 * included), one column per series. A time a series has no point for, or a null point, is a
 * gap. `scale` converts units (seconds → ms, ratio → %); `order` sorts series by name.
 */
export function toChartData(series: readonly SeriesDto[], scale = 1, order?: readonly string[]): ChartData {
  const ordered = order ? [...series].sort((a, b) => rank(order, a.name) - rank(order, b.name)) : series;
  const keys = ordered.map((s, i) => ({ key: `s${i}`, name: s.name }));
  const times = [...new Set(ordered.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const rows: ChartRow[] = times.map((t) => {
    const row = { t } as ChartRow;
    for (const { key } of keys) row[key] = null;
    return row;
  });
  let hasData = false;
  ordered.forEach((s, i) => {
    for (const point of s.points) {
      const value = point.v === null || !Number.isFinite(point.v) ? null : point.v * scale;
      if (value !== null) hasData = true;
      rows[index.get(point.t)!]![`s${i}`] = value;
    }
  });
  return { rows, keys, hasData };
}

/** The series' step in seconds: the smallest distance between its points (fallback with fewer than two). */
export function stepOf(series: SeriesDto | undefined, fallbackSeconds: number): number {
  const times = [...new Set((series?.points ?? []).map((p) => p.t))].sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < times.length; i++) step = Math.min(step, times[i]! - times[i - 1]!);
  return Number.isFinite(step) && step > 0 ? step / 1_000 : fallbackSeconds;
}

/**
 * True when the row's value has no neighbour with a value: a line cannot be drawn to or from it,
 * so the chart marks it with a dot (otherwise a lone sample between gaps would be invisible).
 */
export function isIsolated(rows: readonly ChartRow[], key: string, index: number): boolean {
  const value = rows[index]?.[key];
  if (value === null || value === undefined) return false;
  const before = rows[index - 1]?.[key];
  const after = rows[index + 1]?.[key];
  return (before === null || before === undefined) && (after === null || after === undefined);
}

function rank(order: readonly string[], name: string): number {
  const index = order.indexOf(name);
  return index === -1 ? order.length : index;
}

/** The last sample that has a value, or null. */
export function latestValue(series: SeriesDto | undefined): number | null {
  if (!series) return null;
  for (let i = series.points.length - 1; i >= 0; i--) {
    const v = series.points[i]!.v;
    if (v !== null && Number.isFinite(v)) return v;
  }
  return null;
}

/** Mean of the samples that have a value (gaps are skipped, not counted as zero), or null. */
export function meanValue(series: SeriesDto | undefined): number | null {
  const values = (series?.points ?? []).map((p) => p.v).filter((v): v is number => v !== null && Number.isFinite(v));
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** A per-second rate integrated over its steps: how many events the series stands for. */
export function totalFromRate(series: SeriesDto | undefined, fallbackStepSeconds: number): number | null {
  const step = stepOf(series, fallbackStepSeconds);
  const values = (series?.points ?? []).map((p) => p.v).filter((v): v is number => v !== null && Number.isFinite(v));
  return values.length === 0 ? null : values.reduce((a, b) => a + b * step, 0);
}

export function findSeries(series: readonly SeriesDto[], name: string): SeriesDto | undefined {
  return series.find((s) => s.name === name);
}

/** Points of one series as a sparkline (value or null per point, in time order). */
export function sparklinePoints(series: SeriesDto | undefined): Array<{ t: number; v: number | null }> {
  return [...(series?.points ?? [])]
    .sort((a, b) => a.t - b.t)
    .map((p) => ({ t: p.t, v: p.v !== null && Number.isFinite(p.v) ? p.v : null }));
}

// ---- formatting --------------------------------------------------------------------------------

const DASH = "—";

export function formatNumber(value: number | null, digits = 1): string {
  if (value === null || !Number.isFinite(value)) return DASH;
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(digits)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(digits)}k`;
  return abs >= 100 || Number.isInteger(value) ? String(Math.round(value)) : value.toFixed(digits);
}

/** A count in full (no "k"/"M" rounding): counts on the overview are exact. */
export function formatCount(value: number | null): string {
  return value === null || !Number.isFinite(value) ? DASH : Math.round(value).toLocaleString("en-US");
}

export function formatRate(value: number | null): string {
  return value === null ? DASH : `${formatNumber(value, value !== 0 && Math.abs(value) < 1 ? 2 : 1)}/s`;
}

export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return DASH;
  const ms = seconds * 1_000;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1_000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(2)} s`;
}

export function formatPercent(ratio: number | null, digits = 1): string {
  return ratio === null || !Number.isFinite(ratio) ? DASH : `${(ratio * 100).toFixed(digits)}%`;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes)) return DASH;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return DASH;
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Axis tick for a time: clock time for ranges within a day, date and hour beyond. */
export function formatTick(t: number, rangeSeconds: number): string {
  const d = new Date(t);
  const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  return rangeSeconds > 86_400 ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
}
