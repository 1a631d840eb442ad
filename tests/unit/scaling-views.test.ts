// Shaping scaling data for the console (prepare, then draw).
import { expect, it } from "vitest";
import {
  decisionPredatesSwitch,
  formatCount,
  formatStep,
  formatUsd,
  parseSpecText,
  simulationCoverage,
  simulationCpuSeries,
  simulationSeries,
} from "../../lib/control-plane/scaling/views";

const report = {
  results: [
    {
      policy: "balanced",
      series: [
        { t: 0, replicas: 3, cpu: 40 },
        { t: 60_000, replicas: 4, cpu: null },
      ],
    },
    {
      policy: "aggressive",
      series: [
        { t: 0, replicas: 3, cpu: 40 },
        { t: 60_000, replicas: 5, cpu: 30 },
      ],
    },
  ],
} as never;

it("turns simulation results into one series per policy, gaps kept: no replicas drawn where no load was replayed", () => {
  expect(simulationSeries(report)).toEqual([
    {
      name: "balanced",
      points: [
        { t: 0, v: 3 },
        { t: 60_000, v: null },
      ],
    },
    {
      name: "aggressive",
      points: [
        { t: 0, v: 3 },
        { t: 60_000, v: 5 },
      ],
    },
  ]);
  expect(simulationCpuSeries(report)[0]!.points[1]).toEqual({ t: 60_000, v: null });
});

it("formats counts, dollars and the editor's JSON", () => {
  expect([formatCount(3), formatCount(2.5)]).toEqual(["3", "2.5"]);
  expect(formatUsd(1234.4)).toBe("$1,234");
  expect(parseSpecText('{"minReplicas": 1}')).toEqual({ ok: true, value: { minReplicas: 1 } });
  expect(parseSpecText("{minReplicas: 1}").ok).toBe(false);
});

it("names steps and what the simulator replayed in minutes, not steps", () => {
  expect([formatStep(60), formatStep(1_200), formatStep(21_600), formatStep(86_400), formatStep(10)]).toEqual([
    "1-minute",
    "20-minute",
    "6-hour",
    "1-day",
    "10-second",
  ]);
  expect(simulationCoverage({ recordedMinutes: 30, minutes: 10_080, stepSeconds: 600 })).toBe(
    "30 of 10,080 minutes, in 10-minute steps",
  );
  expect(simulationCoverage({ recordedMinutes: 25, minutes: 1_440, stepSeconds: 60 })).toBe("25 of 1,440 minutes");
});

it("tells a decision made under the previous policy from one under the active policy", () => {
  const latest = { policyName: "balanced" } as never;
  expect(decisionPredatesSwitch({ active: { name: "aggressive" } as never, latest })).toBe(true);
  expect(decisionPredatesSwitch({ active: { name: "balanced" } as never, latest })).toBe(false);
  expect(decisionPredatesSwitch({ active: null, latest })).toBe(false);
});
