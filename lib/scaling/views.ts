// Shaping scaling data for the console's charts and tables (prepare, then draw). Pure, client-safe.
import type { SeriesDto } from "../console/contracts";
import type { SimulationResponse } from "./contracts";

/** One series per policy: its simulated replica count, minute by minute. */
export function simulationSeries(report: Pick<SimulationResponse, "results">): SeriesDto[] {
  return report.results.map((r) => ({ name: r.policy, points: r.series.map((s) => ({ t: s.t, v: s.replicas })) }));
}

/** The simulated fleet's average CPU, one series per policy (gaps where the load has none). */
export function simulationCpuSeries(report: Pick<SimulationResponse, "results">): SeriesDto[] {
  return report.results.map((r) => ({ name: r.policy, points: r.series.map((s) => ({ t: s.t, v: s.cpu })) }));
}

/** A count on a chart axis: whole numbers plain, the axis' in-between ticks with one decimal. */
export function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** "$1,234" */
export function formatUsd(value: number): string {
  return `$${Math.round(value).toLocaleString("en-US")}`;
}

/** A parsed JSON policy spec from the editor's text, or why not. */
export function parseSpecText(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `Not JSON: ${(error as Error).message}` };
  }
}
