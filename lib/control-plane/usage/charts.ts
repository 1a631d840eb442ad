// Shaping the Usage page's numbers for display. Pure and client-safe.
import type { ChartData } from "../console/charts";
import type { UsagePoint } from "./contracts";

type Field = "costUsd" | "tokens" | "savedUsd";

/** One chart series per field, a row per step; steps nobody recorded anything in stay gaps. */
export function usageChartData(points: readonly UsagePoint[], fields: ReadonlyArray<{ field: Field; name: string }>): ChartData {
  const rows = points.map((p) => Object.assign({ t: p.t }, Object.fromEntries(fields.map((f, i) => [`s${i}`, p[f.field]]))));
  return {
    rows,
    keys: fields.map((f, i) => ({ key: `s${i}`, name: f.name })),
    hasData: points.some((p) => fields.some((f) => p[f.field] !== null)),
  };
}

/** USD with cents, and more digits for amounts under a cent (a single request's cost). */
export function formatUsd(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "—";
  const abs = Math.abs(value);
  const digits = abs === 0 || abs >= 1 ? 2 : abs >= 0.01 ? 4 : 6;
  return `$${value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** A budget's use as a share (0..), or null without a budget. */
export function budgetShare(spent: number, budget: number | null): number | null {
  return budget === null || budget <= 0 ? null : spent / budget;
}
