// The controller details the first HPA tests do not reach: the integer view of the current value
// (GetResourceUtilizationRatio, GetMetricUsageRatio), per-direction tolerances (KEP-4951), the
// "invalid metrics never scale down" rule of computeReplicasForMetrics, and the controller memory
// a new leader starts from.
import { describe, expect, it } from "vitest";
import {
  HorizontalAutoscaler,
  replicasForMetric,
  type HpaBehavior,
  type MetricSpec,
  type PodSample,
} from "../../lib/control-plane/scaling/hpa";

const cpu = (target: number): MetricSpec => ({ name: "cpu", type: "Utilization", target, isCpu: true });
const perPod = (target: number): MetricSpec => ({ name: "rps", type: "AverageValue", target, isCpu: false });
const pods = (...values: Array<number | null>): PodSample[] =>
  values.map((value, i) => ({ name: `pod-${i}`, ready: true, value }));
const many = (n: number, value: number | null) => pods(...Array<number | null>(n).fill(value));
const unlimited = {
  stabilizationWindowSeconds: 0,
  selectPolicy: "Max" as const,
  policies: [{ type: "Percent" as const, value: 1000, periodSeconds: 1 }],
};

describe("the current value as the controller holds it", () => {
  it("truncates a utilisation to whole percent before the ratio: 84.9% against 70% is 84%, so 10 pods become 12, not 13", () => {
    const proposal = replicasForMetric(10, many(10, 84.9), cpu(70));
    expect(proposal.currentAverage).toBe(84);
    expect(proposal.replicas).toBe(12);
  });
  it("truncates a per-pod average to milli-units", () => {
    const proposal = replicasForMetric(3, pods(100.0004, 100.0004, 100.0004), perPod(50));
    expect(proposal.currentAverage).toBe(100);
    expect(proposal.replicas).toBe(6);
  });
  it("at exactly the target with pods missing, counts them idle for a per-pod metric but leaves them out for a resource", () => {
    // calcPlainMetricReplicas: ratio 1 is not < 1, so the missing pods get 0 → mean 33.333 → ceil(0.33333 × 3) = 1.
    expect(replicasForMetric(3, pods(100, null, null), perPod(100)).replicas).toBe(1);
    // GetResourceReplicas: missing pods get a value only when the ratio is < 1 or > 1: nothing changes.
    expect(replicasForMetric(3, pods(70, null, null), cpu(70)).replicas).toBe(3);
  });
});

describe("per-direction tolerances (behavior.scaleUp.tolerance, behavior.scaleDown.tolerance)", () => {
  // The balanced preset's mapping: target 70%, scale-up tolerance 0, scale-down tolerance 0.5714 (30%).
  const hysteresis = { scaleUp: 0, scaleDown: 0.5714 };
  it("scales up as soon as the average is above the target", () => {
    expect(replicasForMetric(10, many(10, 70), cpu(70), hysteresis).replicas).toBe(10);
    expect(replicasForMetric(10, many(10, 71), cpu(70), hysteresis).replicas).toBe(11);
  });
  it("scales down only at or below the scale-down threshold, and then back towards the target", () => {
    expect(replicasForMetric(10, many(10, 31), cpu(70), hysteresis).replicas).toBe(10);
    // 30/70 = 0.4286 < 1 − 0.5714: ceil(0.42857 × 10) = 5.
    expect(replicasForMetric(10, many(10, 30), cpu(70), hysteresis).replicas).toBe(5);
  });
  it("matches the KEP's example: a 100 target with 5% down and 1% up triggers below 95 or above 101", () => {
    const t = { scaleDown: 0.05, scaleUp: 0.01 };
    expect(replicasForMetric(10, many(10, 95), perPod(100), t).replicas).toBe(10);
    expect(replicasForMetric(20, many(20, 94.9), perPod(100), t).replicas).toBe(19); // ceil(18.98)
    expect(replicasForMetric(10, many(10, 101), perPod(100), t).replicas).toBe(10);
    expect(replicasForMetric(10, many(10, 101.1), perPod(100), t).replicas).toBe(11);
  });
  it("takes each direction's tolerance from the behaviour, the spec's tolerance otherwise", () => {
    const behavior: HpaBehavior = { scaleUp: { ...unlimited, tolerance: 0 }, scaleDown: { ...unlimited, tolerance: 0.5714 } };
    const hpa = new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 50, behavior });
    expect(hpa.decide(0, 10, [{ spec: cpu(70), samples: many(10, 35) }]).desiredReplicas).toBe(10);
    expect(hpa.decide(1_000, 10, [{ spec: cpu(70), samples: many(10, 74) }]).desiredReplicas).toBe(11);
    const plain = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 50,
      behavior: { scaleUp: unlimited, scaleDown: unlimited },
    });
    expect(plain.decide(0, 10, [{ spec: cpu(70), samples: many(10, 74) }]).desiredReplicas).toBe(10);
  });
});

describe("metrics without data", () => {
  const hpa = () =>
    new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 50, behavior: { scaleUp: unlimited, scaleDown: unlimited } });
  it("never scales down on the metrics that have data while another has none", () => {
    const decision = hpa().decide(0, 6, [
      { spec: cpu(70), samples: many(6, 10) },
      { spec: perPod(100), samples: many(6, null) },
    ]);
    expect(decision).toMatchObject({ desiredReplicas: 6, metricReplicas: 1, reason: "MetricsIncomplete" });
  });
  it("still scales up on them", () => {
    const decision = hpa().decide(0, 6, [
      { spec: cpu(70), samples: many(6, 140) },
      { spec: perPod(100), samples: many(6, null) },
    ]);
    expect(decision.desiredReplicas).toBe(12);
  });
  it("records no recommendation then: a later decision is not held by it", () => {
    const scaler = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 50,
      behavior: { scaleUp: unlimited, scaleDown: { ...unlimited, stabilizationWindowSeconds: 300 } },
    });
    scaler.decide(0, 6, [
      { spec: cpu(70), samples: many(6, 10) },
      { spec: perPod(100), samples: many(6, null) },
    ]);
    expect(scaler.memory().recommendations).toHaveLength(0);
    scaler.decide(1_000, 6, [{ spec: cpu(70), samples: many(6, 10) }]);
    expect(scaler.memory().recommendations).toEqual([{ at: 1_000, value: 1 }]);
  });
});

describe("controller memory", () => {
  const behavior: HpaBehavior = {
    scaleUp: unlimited,
    scaleDown: {
      stabilizationWindowSeconds: 300,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 10, periodSeconds: 60 }],
    },
  };
  it("lets a successor keep the scale-down window and the rate limits of its predecessor", () => {
    const first = new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 50, behavior });
    first.decide(0, 10, [{ spec: perPod(100), samples: many(10, 100) }]);
    const successor = new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 50, behavior }, first.memory());
    expect(successor.decide(60_000, 10, [{ spec: perPod(100), samples: many(10, 50) }])).toMatchObject({
      desiredReplicas: 10,
      reason: "ScaleDownStabilized",
    });
    const fresh = new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 50, behavior });
    expect(fresh.decide(60_000, 10, [{ spec: perPod(100), samples: many(10, 50) }]).desiredReplicas).toBe(9);
  });
  it("records a change only when told it happened, with recordScale: false", () => {
    const scaler = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 50,
      behavior: { scaleUp: unlimited, scaleDown: { ...behavior.scaleDown, stabilizationWindowSeconds: 0 } },
    });
    const asking = (n: number) => [{ spec: perPod(100), samples: many(n, 50) }];
    expect(scaler.decide(0, 20, asking(20), { recordScale: false }).desiredReplicas).toBe(18);
    // Not applied: the next decision may still remove 10% of 20.
    expect(scaler.decide(10_000, 20, asking(20), { recordScale: false }).desiredReplicas).toBe(18);
    scaler.recordScale(10_000, 20, 18);
    // Applied: within the same 60 s, 18 is already 20 − 10%.
    expect(scaler.decide(20_000, 18, asking(18), { recordScale: false }).desiredReplicas).toBe(18);
  });
});
