// The scaling guide's presets as policies, the validation admins meet when saving their own, and
// the mapping of "scale up at X%, down at Y%" onto one HPA target with per-direction tolerances.
import { describe, expect, it } from "vitest";
import { HorizontalAutoscaler, replicasForMetric, type PodSample } from "../../lib/control-plane/scaling/hpa";
import {
  diffPolicies,
  hpaBehavior,
  metricSpecs,
  parsePolicySpec,
  PRESETS,
  PRESET_NAMES,
  savePolicyInput,
  scaleDownTolerance,
  toHpaSpec,
  type PolicySpec,
} from "../../lib/control-plane/scaling/policies";

const pods = (n: number, value: number): PodSample[] =>
  Array.from({ length: n }, (_, i) => ({ name: `p${i}`, ready: true, value }));
const errorOf = (value: unknown) => {
  const parsed = parsePolicySpec(value);
  return parsed.ok ? null : parsed.error;
};

describe("presets", () => {
  it("are the guide's thresholds and bounds", () => {
    const summary = Object.fromEntries(
      PRESET_NAMES.map((n) => [
        n,
        [PRESETS[n].cpu.scaleUpAtPercent, PRESETS[n].cpu.scaleDownAtPercent, PRESETS[n].minReplicas, PRESETS[n].maxReplicas],
      ]),
    );
    expect(summary).toEqual({ aggressive: [60, 30, 3, 20], balanced: [70, 30, 3, 15], conservative: [80, 20, 2, 10] });
  });
  it("balanced carries the guide's HPA behaviour", () => {
    expect(PRESETS.balanced.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 60,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 50, periodSeconds: 60 }],
      },
      scaleDown: {
        stabilizationWindowSeconds: 300,
        selectPolicy: "Max",
        policies: [{ type: "Percent", value: 10, periodSeconds: 60 }],
      },
    });
  });
  it("aggressive goes up sooner and faster and down later and slower than balanced; conservative the opposite", () => {
    // Each preset's own HPA, deciding every 15 s as the controller does, with the load held.
    const run = (spec: PolicySpec, from: number, cpu: number, minutes: number) => {
      const hpa = new HorizontalAutoscaler({ ...toHpaSpec(spec), minReplicas: 1, maxReplicas: 100 });
      let replicas = from;
      const reached: number[] = [];
      for (let t = 0; t <= minutes * 60; t += 15) {
        replicas = hpa.decide(t * 1000, replicas, [
          { spec: metricSpecs(spec)[0]!, samples: pods(replicas, cpu) },
        ]).desiredReplicas;
        if (t % 60 === 0) reached.push(replicas);
      }
      return reached;
    };
    const up = Object.fromEntries(PRESET_NAMES.map((n) => [n, run(PRESETS[n], 4, 100, 3)]));
    const down = Object.fromEntries(PRESET_NAMES.map((n) => [n, run(PRESETS[n], 20, 1, 15)]));
    for (const minute of [1, 2, 3]) {
      expect(up.aggressive![minute], `up, minute ${minute}`).toBeGreaterThan(up.balanced![minute]!);
      expect(up.conservative![minute], `up, minute ${minute}`).toBeLessThan(up.balanced![minute]!);
    }
    for (const minute of [3, 6, 10]) {
      expect(down.aggressive![minute], `down, minute ${minute}`).toBeGreaterThan(down.balanced![minute]!);
      expect(down.conservative![minute], `down, minute ${minute}`).toBeLessThan(down.balanced![minute]!);
    }
  });
  it("all validate", () => {
    for (const name of PRESET_NAMES) expect(parsePolicySpec(PRESETS[name])).toEqual({ ok: true, spec: PRESETS[name] });
  });
});

describe("one HPA target, two thresholds", () => {
  it("sets the scale-down tolerance to the largest 4-place decimal below 1 − down/up", () => {
    expect(scaleDownTolerance(PRESETS.balanced)).toBe(0.5714);
    expect(scaleDownTolerance(PRESETS.aggressive)).toBe(0.4999);
    expect(scaleDownTolerance(PRESETS.conservative)).toBe(0.7499);
    expect(hpaBehavior(PRESETS.balanced).scaleUp.tolerance).toBe(0);
    expect(toHpaSpec(PRESETS.balanced)).toMatchObject({ minReplicas: 3, maxReplicas: 15 });
  });

  for (const name of PRESET_NAMES) {
    const spec = PRESETS[name];
    const tolerance = { scaleUp: hpaBehavior(spec).scaleUp.tolerance!, scaleDown: hpaBehavior(spec).scaleDown.tolerance! };
    const [cpu] = metricSpecs(spec);
    const { scaleUpAtPercent: up, scaleDownAtPercent: down } = spec.cpu;
    it(`${name}: holds from ${down + 1}% to ${up}%, scales down at ${down}%, up at ${up + 1}%`, () => {
      for (let level = down + 1; level <= up; level++)
        expect(replicasForMetric(10, pods(10, level), cpu!, tolerance).replicas, `${level}%`).toBe(10);
      expect(replicasForMetric(10, pods(10, down), cpu!, tolerance).replicas).toBeLessThan(10);
      expect(replicasForMetric(10, pods(10, up + 1), cpu!, tolerance).replicas).toBeGreaterThan(10);
    });
  }

  it("scales down exactly at the threshold for every pair of whole percents up to 300%", () => {
    const wrong: string[] = [];
    for (let up = 1; up <= 300; up++) {
      for (let down = 0; down < up; down++) {
        const t = scaleDownTolerance({ cpu: { scaleUpAtPercent: up, scaleDownAtPercent: down } });
        const within = (level: number) => 1 - t <= level / up; // Tolerances.isWithin, lower side
        if (within(down) || !within(down + 1)) wrong.push(`${up}/${down}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("adds memory and requests-per-instance targets when the policy has them", () => {
    const spec = { ...PRESETS.balanced, memory: { targetPercent: 80 }, requestsPerSecondPerInstance: 100 };
    expect(metricSpecs(spec)).toEqual([
      { name: "cpu", type: "Utilization", target: 70, isCpu: true },
      { name: "memory", type: "Utilization", target: 80, isCpu: false },
      { name: "requests_per_second", type: "AverageValue", target: 100, isCpu: false },
    ]);
  });
});

describe("validation", () => {
  const base = structuredClone(PRESETS.balanced) as any;
  const tweak = (change: (spec: any) => void) => {
    const spec = structuredClone(base);
    change(spec);
    return spec;
  };

  it("requires min ≤ max", () => {
    expect(errorOf(tweak((s) => ((s.minReplicas = 5), (s.maxReplicas = 2))))).toBe(
      "maxReplicas: maxReplicas (2) must be at least minReplicas (5)",
    );
    expect(errorOf(tweak((s) => ((s.minReplicas = 4), (s.maxReplicas = 4))))).toBeNull();
  });
  it("requires the scale-down threshold below the scale-up one", () => {
    expect(errorOf(tweak((s) => (s.cpu.scaleDownAtPercent = 70)))).toBe(
      "cpu.scaleDownAtPercent: scaleDownAtPercent (70) must be below scaleUpAtPercent (70)",
    );
  });
  it("keeps stabilization windows within 0–3600 s and periods within 1–1800 s", () => {
    expect(errorOf(tweak((s) => (s.behavior.scaleDown.stabilizationWindowSeconds = 3601)))).toBe(
      "behavior.scaleDown.stabilizationWindowSeconds: stabilizationWindowSeconds must be at most 3600",
    );
    expect(errorOf(tweak((s) => (s.behavior.scaleUp.stabilizationWindowSeconds = -1)))).toBe(
      "behavior.scaleUp.stabilizationWindowSeconds: stabilizationWindowSeconds must be at least 0",
    );
    expect(errorOf(tweak((s) => (s.behavior.scaleUp.policies[0].periodSeconds = 0)))).toBe(
      "behavior.scaleUp.policies.0.periodSeconds: periodSeconds must be at least 1",
    );
    expect(errorOf(tweak((s) => (s.behavior.scaleUp.policies[0].periodSeconds = 1801)))).toBe(
      "behavior.scaleUp.policies.0.periodSeconds: periodSeconds must be at most 1800",
    );
  });
  it("requires at least one rate policy per direction", () => {
    expect(errorOf(tweak((s) => (s.behavior.scaleDown.policies = [])))).toBe(
      "behavior.scaleDown.policies: at least one rate policy is needed",
    );
  });
  it("names a wrong type or a fraction", () => {
    expect(errorOf(tweak((s) => (s.minReplicas = 1.5)))).toBe("minReplicas: minReplicas must be a whole number");
    expect(errorOf(tweak((s) => (s.behavior.scaleUp.policies[0].type = "Instances")))).toBe(
      'behavior.scaleUp.policies.0.type: type must be "Pods" or "Percent"',
    );
    expect(errorOf(tweak((s) => (s.cpu.scaleUpAtPercent = "70")))).toBe(
      "cpu.scaleUpAtPercent: scaleUpAtPercent must be a number",
    );
  });
  it("defaults selectPolicy to Max, as the HPA does", () => {
    const parsed = parsePolicySpec(tweak((s) => delete s.behavior.scaleUp.selectPolicy));
    expect(parsed.ok && parsed.spec.behavior.scaleUp.selectPolicy).toBe("Max");
  });
  it("checks policy names", () => {
    expect(savePolicyInput.safeParse({ name: "night-shift", spec: base }).success).toBe(true);
    expect(savePolicyInput.safeParse({ name: "Night Shift", spec: base }).success).toBe(false);
  });
});

describe("diffPolicies", () => {
  it("lists what changes from balanced to aggressive, and nothing between equal policies", () => {
    const diff = diffPolicies(PRESETS.balanced, PRESETS.aggressive);
    expect(diff.map((d) => d.field)).toEqual(["Instances", "Scale up at", "Scale-up behaviour", "Scale-down behaviour"]);
    expect(diff[0]).toEqual({ field: "Instances", before: "3–15", after: "3–20" });
    expect(diff[1]).toEqual({ field: "Scale up at", before: "70% CPU", after: "60% CPU" });
    expect(diffPolicies(PRESETS.balanced, structuredClone(PRESETS.balanced))).toEqual([]);
  });
});
