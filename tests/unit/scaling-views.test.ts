// Shaping scaling data for the console (prepare, then draw).
import { expect, it } from "vitest";
import { formatCount, formatUsd, parseSpecText, simulationCpuSeries, simulationSeries } from "../../lib/scaling/views";

const report = {
  results: [
    { policy: "balanced", series: [{ t: 0, replicas: 3, cpu: 40 }, { t: 60_000, replicas: 4, cpu: null }] },
    { policy: "aggressive", series: [{ t: 0, replicas: 3, cpu: 40 }, { t: 60_000, replicas: 5, cpu: 30 }] },
  ],
} as never;

it("turns simulation results into one series per policy, gaps kept", () => {
  expect(simulationSeries(report)).toEqual([
    { name: "balanced", points: [{ t: 0, v: 3 }, { t: 60_000, v: 4 }] },
    { name: "aggressive", points: [{ t: 0, v: 3 }, { t: 60_000, v: 5 }] },
  ]);
  expect(simulationCpuSeries(report)[0]!.points[1]).toEqual({ t: 60_000, v: null });
});

it("formats counts, dollars and the editor's JSON", () => {
  expect([formatCount(3), formatCount(2.5)]).toEqual(["3", "2.5"]);
  expect(formatUsd(1234.4)).toBe("$1,234");
  expect(parseSpecText('{"minReplicas": 1}')).toEqual({ ok: true, value: { minReplicas: 1 } });
  expect(parseSpecText("{minReplicas: 1}").ok).toBe(false);
});
