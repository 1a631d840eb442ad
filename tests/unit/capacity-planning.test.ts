// Capacity planning and the policy simulator, as pure functions: the guide's formula and worked
// example, capacity measured from load and CPU, the size recommendation, and the presets replayed
// over a recorded day.
import { describe, expect, it } from "vitest";
import {
  capacityAtTargetCpu,
  MIN_FIT_SAMPLES,
  peakOf,
  recommend,
  requiredInstances,
  scheduleFor,
  type InstanceSizeRow,
  type ScheduleRow,
} from "../../lib/control-plane/capacity/planning";
import { loadFromSeries, simulatePolicies, simulatePolicy, type LoadMinute } from "../../lib/control-plane/capacity/simulator";
import { peakStepFor } from "../../lib/control-plane/capacity/overview";
import { MAX_POINTS } from "../../lib/platform/metrics-history/query/grid";
import { PRESETS, PRESET_NAMES } from "../../lib/control-plane/scaling/policies";

const SIZES: InstanceSizeRow[] = [
  { id: "small", name: "Small", cpuCores: 2, memoryGb: 4, requestsPerSecond: 100, monthlyCostUsd: 50 },
  { id: "medium", name: "Medium", cpuCores: 4, memoryGb: 8, requestsPerSecond: 250, monthlyCostUsd: 100 },
  { id: "large", name: "Large", cpuCores: 8, memoryGb: 16, requestsPerSecond: 500, monthlyCostUsd: 200 },
];
const SCHEDULE: ScheduleRow[] = [
  { users: "0-100", rpsFrom: 0, rpsTo: 50, instancesMin: 1, instancesMax: 1, notes: "Development" },
  { users: "100-1K", rpsFrom: 50, rpsTo: 200, instancesMin: 2, instancesMax: 3, notes: "Small production" },
  { users: "1K-10K", rpsFrom: 200, rpsTo: 1000, instancesMin: 3, instancesMax: 6, notes: "Medium production" },
  { users: "10K+", rpsFrom: 1000, rpsTo: null, instancesMin: 6, instancesMax: null, notes: "Large production" },
];

describe("requiredInstances", () => {
  it("is the guide's example: (1000 ÷ 250) × 1.5 = 6", () => {
    expect(requiredInstances(1000, 250, 1.5)).toBe(6);
  });
  it("rounds up, and never goes below one", () => {
    expect(requiredInstances(1001, 250, 1.5)).toBe(7);
    expect(requiredInstances(0, 250, 1.5)).toBe(1);
  });
  it("refuses a capacity of zero and a safety factor below 1", () => {
    expect(() => requiredInstances(10, 0, 1.5)).toThrow(RangeError);
    expect(() => requiredInstances(10, 100, 0.5)).toThrow(RangeError);
  });
});

describe("peak and measured capacity", () => {
  it("finds the peak and ignores gaps", () => {
    expect(
      peakOf([
        { t: 1, v: 3 },
        { t: 2, v: null },
        { t: 3, v: 9 },
        { t: 4, v: 4 },
      ]),
    ).toEqual({ requestsPerSecond: 9, at: 3 });
    expect(peakOf([{ t: 1, v: null }])).toBeNull();
  });
  it("solves CPU = idle + k × rps for the target CPU", () => {
    // 5% idle, 0.25% per req/s, with noise: 70% is reached at (70 − 5) ÷ 0.25 = 260 req/s.
    const samples = Array.from({ length: 40 }, (_, i) => ({
      rps: 5 + i * 5,
      cpu: 5 + 0.25 * (5 + i * 5) + (i % 2 ? 0.8 : -0.8),
    }));
    const fit = capacityAtTargetCpu(samples, 70)!;
    expect(fit.requestsPerSecond).toBeGreaterThan(255);
    expect(fit.requestsPerSecond).toBeLessThan(265);
    expect(fit.idleCpu).toBeCloseTo(5, 0);
    expect(fit.r2).toBeGreaterThan(0.99);
  });
  it("declines without enough samples under load, or when CPU does not follow load", () => {
    const line = (n: number) => Array.from({ length: n }, (_, i) => ({ rps: i + 1, cpu: 2 + i }));
    expect(capacityAtTargetCpu(line(MIN_FIT_SAMPLES - 1), 70)).toBeNull();
    expect(capacityAtTargetCpu(line(MIN_FIT_SAMPLES), 70)).not.toBeNull();
    expect(
      capacityAtTargetCpu(
        Array.from({ length: 20 }, (_, i) => ({ rps: i + 1, cpu: i % 2 ? 3 : 40 })),
        70,
      ),
    ).toBeNull();
    expect(
      capacityAtTargetCpu(
        Array.from({ length: 20 }, () => ({ rps: 0, cpu: 4 })),
        70,
      ),
    ).toBeNull();
  });
});

describe("recommend", () => {
  const base = {
    safetyFactor: 1.5,
    sizes: SIZES,
    currentSizeId: "medium",
    schedule: SCHEDULE,
    minimumInstances: 3,
    measured: null,
  };

  it("prices every size and picks the cheapest, more instances breaking a tie", () => {
    const r = recommend({ ...base, peakRps: 1000 });
    expect(r.options.map((o) => [o.size.id, o.instances, o.monthlyCostUsd])).toEqual([
      ["small", 15, 750],
      ["medium", 6, 600],
      ["large", 3, 600],
    ]);
    expect(r.best?.size.id).toBe("medium");
    expect(r.current).toMatchObject({ instances: 6 });
    expect(r.capacitySource).toBe("nominal");
    expect(r.schedule?.notes).toBe("Large production");
    expect(r.summary).toContain("ceil(1000 ÷ 250 × 1.5) = 6");
  });
  it("calibrates every size by what was measured on the current one", () => {
    const r = recommend({ ...base, peakRps: 1000, measured: { requestsPerSecond: 125, source: "observed" } });
    expect(r.options.map((o) => [o.size.id, o.requestsPerSecond, o.instances])).toEqual([
      ["small", 50, 30],
      ["medium", 125, 12],
      ["large", 250, 6],
    ]);
    expect(r.capacitySource).toBe("observed");
  });
  it("never goes below the policy's minimum", () => {
    const r = recommend({ ...base, peakRps: 10 });
    expect(r.options.every((o) => o.instances === 3)).toBe(true);
    expect(r.best?.size.id).toBe("small");
    expect(r.summary).toContain("raised to the policy minimum of 3");
  });
  it("says so when the plan needs more instances than the policy's maximum", () => {
    const r = recommend({ ...base, peakRps: 5000, maximumInstances: { policy: "balanced", replicas: 15 } });
    expect(r.current?.instances).toBe(30);
    expect(r.aboveMaximum).toEqual({ policy: "balanced", maxReplicas: 15, instances: 30 });
    expect(r.summary).toContain("more than the balanced policy's maximum of 15 instances");
    // Medium (30) and large (15) cost the same: the one the policy can run is recommended.
    expect(r.best?.size.id).toBe("large");
    expect(recommend({ ...base, peakRps: 5000 }).best?.size.id).toBe("medium");
    const within = recommend({ ...base, peakRps: 1000, maximumInstances: { policy: "balanced", replicas: 15 } });
    expect(within.aboveMaximum).toBeNull();
    expect(within.summary).not.toContain("maximum");
  });
  it("places the load in the guide's schedule", () => {
    expect(scheduleFor(0, SCHEDULE)?.notes).toBe("Development");
    expect(scheduleFor(50, SCHEDULE)?.notes).toBe("Small production");
    expect(scheduleFor(999, SCHEDULE)?.notes).toBe("Medium production");
    expect(scheduleFor(5000, SCHEDULE)?.notes).toBe("Large production");
  });
});

describe("peak resolution", () => {
  it("reads every look-back the settings allow (1–90 days) in one query, at 1 minute up to a week", () => {
    for (let days = 1; days <= 90; days++) {
      const seconds = days * 86_400;
      const step = peakStepFor(seconds);
      expect(Math.ceil(seconds / step) + 1, `${days} days`).toBeLessThanOrEqual(MAX_POINTS);
      if (days <= 7) expect(step, `${days} days`).toBe(60);
    }
    expect(peakStepFor(8 * 86_400)).toBe(600);
    expect(peakStepFor(90 * 86_400)).toBe(1_200);
  });
});

describe("policy simulator", () => {
  // An hour quiet (100% of CPU work: 3 instances at 33%), an hour busy (700%), an hour quiet.
  const day: LoadMinute[] = Array.from({ length: 180 }, (_, m) => {
    const busy = m >= 60 && m < 120;
    return { t: m * 60_000, rps: busy ? 500 : 70, cpuWork: busy ? 700 : 100, instances: 3 };
  });
  const results = Object.fromEntries(
    simulatePolicies(
      PRESET_NAMES.map((name) => ({ name, spec: PRESETS[name] })),
      day,
      { instanceMonthlyCostUsd: 100 },
    ).map((r) => [r.policy, r]),
  );

  it("sizes each policy's fleet to its own target under the busy hour", () => {
    // ceil(700 ÷ 60) = 12, ceil(700 ÷ 70) = 10, ceil(700 ÷ 80) = 9.
    expect([results.aggressive!.peakReplicas, results.balanced!.peakReplicas, results.conservative!.peakReplicas]).toEqual([
      12, 10, 9,
    ]);
  });
  it("trades minutes above the alert level against cost", () => {
    const { aggressive: a, balanced: b, conservative: c } = results;
    expect(a!.minutesAboveAlert).toBeLessThan(b!.minutesAboveAlert);
    expect(b!.minutesAboveAlert).toBeLessThan(c!.minutesAboveAlert);
    expect(a!.costUsd).toBeGreaterThan(b!.costUsd);
    expect(b!.costUsd).toBeGreaterThan(c!.costUsd);
    expect(b!.costUsd).toBeCloseTo((b!.instanceMinutes / (30 * 24 * 60)) * 100, 2);
  });
  it("returns to the minimum when the load is gone, at each policy's pace", () => {
    expect(results.balanced!.series.at(-1)!.replicas).toBe(3);
    // Conservative holds at 25%: above its 20% scale-down threshold.
    expect(results.conservative!.series.at(-1)).toMatchObject({ replicas: 4, cpu: 25 });
    // Aggressive lets go last: one instance per two minutes after a ten-minute window.
    const minutesTo = (name: string, n: number) => results[name]!.series.findIndex((s, i) => i > 120 && s.replicas <= n) - 120;
    expect(minutesTo("aggressive", 6)).toBeGreaterThan(minutesTo("balanced", 6));
  });
  it("holds through gaps in the recorded load", () => {
    const gappy = day.map((m, i) => (i >= 70 && i < 80 ? { ...m, rps: null, cpuWork: null, instances: 0 } : m));
    const r = simulatePolicy("balanced", PRESETS.balanced, gappy, { instanceMonthlyCostUsd: 100 });
    expect(r.series.slice(70, 80).every((s) => s.cpu === null)).toBe(true);
    expect(new Set(r.series.slice(71, 80).map((s) => s.replicas)).size).toBe(1);
  });
  it("prices only the minutes it replayed, not the whole window", () => {
    // Two hours asked for, 25 minutes recorded (3 instances at 33%).
    const sparse = day
      .slice(0, 120)
      .map((m, i) => (i < 25 ? { ...m, rps: 70, cpuWork: 100 } : { ...m, rps: null, cpuWork: null, instances: 0 }));
    const r = simulatePolicy("balanced", PRESETS.balanced, sparse, { instanceMonthlyCostUsd: 43_200 });
    expect(r.instanceMinutes).toBe(75);
    expect(r.costUsd).toBe(75);
    expect(r.averageReplicas).toBe(3);
    expect(r.monthlyCostUsd).toBe(3 * 43_200);
  });
  it("counts minutes, not steps, when the load comes in 10-minute steps", () => {
    // Six 10-minute steps, three recorded: the busy one above balanced's 70% target at 3 instances.
    const steps: LoadMinute[] = [100, 700, 100, null, null, null].map((work, i) => ({
      t: i * 600_000,
      rps: work === null ? null : work,
      cpuWork: work,
      instances: work === null ? 0 : 3,
    }));
    const r = simulatePolicy("balanced", PRESETS.balanced, steps, { instanceMonthlyCostUsd: 43_200, loadStepSeconds: 600 });
    expect(r.series).toHaveLength(6);
    expect(r.minutesAboveTarget % 10).toBe(0);
    expect(r.minutesAboveTarget).toBeGreaterThan(0);
    expect(r.instanceMinutes % 10).toBe(0);
    expect(r.instanceMinutes).toBeGreaterThanOrEqual(90);
    expect(r.costUsd).toBe(r.instanceMinutes);
  });
  it("builds per-minute load from the metrics source's series", () => {
    const load = loadFromSeries(
      [
        { t: 0, v: 10 },
        { t: 60_000, v: null },
      ],
      [
        {
          points: [
            { t: 0, v: 20 },
            { t: 60_000, v: null },
          ],
        },
        {
          points: [
            { t: 0, v: 30 },
            { t: 60_000, v: null },
          ],
        },
      ],
      2,
    );
    expect(load).toEqual([
      { t: 0, rps: 10, cpuWork: 100, instances: 2 },
      { t: 60_000, rps: null, cpuWork: null, instances: 0 },
    ]);
  });
});
