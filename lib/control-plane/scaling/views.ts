// Shaping scaling data for the console's charts and tables (prepare, then draw). Pure, client-safe.
import type { SeriesDto } from "../console/contracts";
import type { ScalingResponse, SimulationResponse } from "./contracts";

/** One series per policy: its simulated replica count, step by step; a gap where no load was recorded (nothing was replayed there). */
export function simulationSeries(report: Pick<SimulationResponse, "results">): SeriesDto[] {
  return report.results.map((r) => ({
    name: r.policy,
    points: r.series.map((s) => ({ t: s.t, v: s.cpu === null ? null : s.replicas })),
  }));
}

/** The simulated fleet's average CPU, one series per policy (gaps where the load has none). */
export function simulationCpuSeries(report: Pick<SimulationResponse, "results">): SeriesDto[] {
  return report.results.map((r) => ({ name: r.policy, points: r.series.map((s) => ({ t: s.t, v: s.cpu })) }));
}

/** A count on a chart axis: whole numbers plain, the axis' in-between ticks with one decimal. */
export function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** A step as an adjective: "1-minute", "20-minute", "6-hour", "1-day". */
export function formatStep(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}-day`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}-hour`;
  if (seconds % 60 === 0) return `${seconds / 60}-minute`;
  return `${seconds}-second`;
}

/** What the simulator replayed: "30 of 10,080 minutes, in 10-minute steps". */
export function simulationCoverage(report: Pick<SimulationResponse, "recordedMinutes" | "minutes" | "stepSeconds">): string {
  const minutes = (n: number) => Math.round(n).toLocaleString("en-US");
  return `${minutes(report.recordedMinutes)} of ${minutes(report.minutes)} minutes${report.stepSeconds === 60 ? "" : `, in ${formatStep(report.stepSeconds)} steps`}`;
}

/** The latest decision was made under another policy than the active one (a switch the leader has not acted on yet). */
export function decisionPredatesSwitch(data: Pick<ScalingResponse, "active" | "latest">): boolean {
  return !!data.active && !!data.latest && data.latest.policyName !== data.active.name;
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
