// The Usage page's pure shaping: gaps stay gaps, money reads as money.
import { describe, expect, it } from "vitest";
import { budgetShare, formatUsd, usageChartData } from "../../lib/control-plane/usage/charts";

describe("usageChartData", () => {
  it("keeps steps without records as gaps, not zeros", () => {
    const data = usageChartData(
      [
        { t: 0, costUsd: 1.5, tokens: 100, savedUsd: 0 },
        { t: 60_000, costUsd: null, tokens: null, savedUsd: null },
      ],
      [
        { field: "costUsd", name: "Spend" },
        { field: "savedUsd", name: "Saved" },
      ],
    );
    expect(data.rows).toEqual([
      { t: 0, s0: 1.5, s1: 0 },
      { t: 60_000, s0: null, s1: null },
    ]);
    expect(data.keys).toEqual([
      { key: "s0", name: "Spend" },
      { key: "s1", name: "Saved" },
    ]);
    expect(data.hasData).toBe(true);
    expect(
      usageChartData([{ t: 0, costUsd: null, tokens: null, savedUsd: null }], [{ field: "tokens", name: "Tokens" }]).hasData,
    ).toBe(false);
  });
});

describe("formatUsd and budgetShare", () => {
  it("shows cents, and the digits a sub-cent amount needs", () => {
    expect(formatUsd(1234.5)).toBe("$1,234.50");
    expect(formatUsd(0.0123)).toBe("$0.0123");
    expect(formatUsd(0.0000015)).toBe("$0.000002");
    expect(formatUsd(0)).toBe("$0.00");
    expect(formatUsd(null)).toBe("—");
  });

  it("is the share of the budget spent, null without one", () => {
    expect(budgetShare(8, 10)).toBe(0.8);
    expect(budgetShare(8, null)).toBeNull();
  });
});
