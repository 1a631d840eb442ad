import { describe, expect, it } from "vitest";
import { evaluationRange } from "../../lib/control-plane/alerts/engine";
import { DEFAULT_MIN_REPLICAS, policyMinReplicas } from "../../lib/control-plane/alerts/policy";
import { updateAlertRuleInput } from "../../lib/control-plane/alerts/rules";
import { breaches, INACTIVE, nextState, type SubjectState } from "../../lib/control-plane/alerts/state";
import { planGrid } from "../../lib/platform/metrics-history/query/grid";

/** Runs evaluations at the given seconds with the given breaches; returns the transitions. */
function run(forSeconds: number, steps: Array<[number, boolean]>) {
  let state: SubjectState = INACTIVE;
  const seen: Array<[number, string]> = [];
  for (const [second, breached] of steps) {
    const next = nextState(state, breached, second * 1000, forSeconds);
    if (next.transition) seen.push([second, next.transition]);
    state = next.state;
  }
  return { seen, state };
}

describe("alert state", () => {
  it("goes pending, fires once the breach has held for `for`, and resolves when it ends", () => {
    const { seen } = run(60, [
      [0, false],
      [15, true],
      [30, true],
      [60, true],
      [75, true],
      [90, true],
      [105, true],
      [120, false],
      [135, false],
    ]);
    expect(seen).toEqual([
      [15, "pending"],
      [75, "firing"],
      [120, "resolved"],
    ]);
  });

  it("cancels a pending alert whose breach ends before `for`", () => {
    const { seen, state } = run(60, [
      [0, true],
      [30, true],
      [45, false],
    ]);
    expect(seen).toEqual([
      [0, "pending"],
      [45, "cancelled"],
    ]);
    expect(state).toEqual(INACTIVE);
  });

  it("fires at once with no `for`, and starts over after resolving", () => {
    const { seen } = run(0, [
      [0, true],
      [10, true],
      [20, false],
      [30, true],
    ]);
    expect(seen).toEqual([
      [0, "firing"],
      [20, "resolved"],
      [30, "firing"],
    ]);
  });

  it("compares strictly, and never breaches without a value", () => {
    expect(breaches(80.0001, "above", 80)).toBe(true);
    expect(breaches(80, "above", 80)).toBe(false);
    expect(breaches(2, "below", 3)).toBe(true);
    expect(breaches(3, "below", 3)).toBe(false);
    expect(breaches(null, "above", 0)).toBe(false);
    expect(breaches(Number.NaN, "below", 3)).toBe(false);
  });
});

describe("evaluationRange", () => {
  it("is the last complete window, one grid step, ending a moment before now", () => {
    const now = Date.parse("2026-01-01T10:07:23.500Z");
    const minute = evaluationRange(60, now);
    expect(minute).toEqual({ start: new Date("2026-01-01T10:06:00Z"), end: new Date("2026-01-01T10:07:00Z"), stepSeconds: 60 });
    expect(planGrid(minute).count).toBe(1);
    const ten = evaluationRange(10, now);
    expect(ten).toEqual({ start: new Date("2026-01-01T10:07:10Z"), end: new Date("2026-01-01T10:07:20Z"), stepSeconds: 10 });
    expect(planGrid(ten).count).toBe(1);
    // Within two seconds of a boundary the window just ended may still be filling: one earlier.
    expect(evaluationRange(10, Date.parse("2026-01-01T10:07:21Z")).end).toEqual(new Date("2026-01-01T10:07:10Z"));
    expect(planGrid(evaluationRange(90, now)).count).toBe(1);
  });
});

describe("rule changes and the policy minimum", () => {
  it("validates changes", () => {
    expect(updateAlertRuleInput.parse({ threshold: 70, forSeconds: 120 })).toEqual({ threshold: 70, forSeconds: 120 });
    expect(updateAlertRuleInput.parse({ threshold: null })).toEqual({ threshold: null });
    expect(updateAlertRuleInput.parse({ webhookFormat: "slack" })).toEqual({ webhookFormat: "slack" });
    for (const bad of [
      {},
      { forSeconds: -1 },
      { windowSeconds: 15 },
      { windowSeconds: 0 },
      { threshold: Number.POSITIVE_INFINITY },
      { webhookUrl: "ftp://x" },
      { webhookFormat: "xml" },
      { severity: "page" },
      { unknown: 1 },
    ]) {
      expect(updateAlertRuleInput.safeParse(bad).success).toBe(false);
    }
  });

  it("reads minReplicas from the active policy, 3 when it has none", () => {
    expect(policyMinReplicas({ minReplicas: 5, maxReplicas: 20 })).toBe(5);
    expect(policyMinReplicas({ replicas: { min: 5 } })).toBe(DEFAULT_MIN_REPLICAS);
    expect(policyMinReplicas(null)).toBe(3);
  });
});
