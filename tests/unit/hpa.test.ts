// Cases from the Kubernetes documentation of the HorizontalPodAutoscaler ("Algorithm details",
// "Configurable scaling behavior") and from the controller's documented rules.
import { describe, expect, it } from "vitest";
import {
  HorizontalAutoscaler,
  replicasForMetric,
  type HpaBehavior,
  type MetricSpec,
  type PodSample,
} from "../../lib/control-plane/scaling/hpa";

const cpu = (target: number): MetricSpec => ({ name: "cpu", type: "Utilization", target, isCpu: true });
const memory = (target: number): MetricSpec => ({ name: "memory", type: "Utilization", target, isCpu: false });
const perPod = (target: number): MetricSpec => ({ name: "rps", type: "AverageValue", target, isCpu: false });
const pods = (...values: Array<number | null>): PodSample[] =>
  values.map((value, i) => ({ name: `pod-${i}`, ready: true, value }));

const rules = (
  stabilizationWindowSeconds: number,
  policies: HpaBehavior["scaleUp"]["policies"],
  selectPolicy: "Max" | "Min" | "Disabled" = "Max",
) => ({
  stabilizationWindowSeconds,
  selectPolicy,
  policies,
});
const unlimited = rules(0, [{ type: "Percent", value: 1000, periodSeconds: 1 }]);

describe("replicasForMetric (replica_calculator)", () => {
  it("doubles when the metric is twice the target (200m against 100m)", () => {
    expect(replicasForMetric(2, pods(200, 200), perPod(100)).replicas).toBe(4);
  });
  it("halves when it is half (50m against 100m)", () => {
    expect(replicasForMetric(4, pods(50, 50, 50, 50), perPod(100)).replicas).toBe(2);
  });
  it("skips scaling within the 0.1 tolerance, and scales just outside it", () => {
    expect(replicasForMetric(10, pods(...Array(10).fill(109)), perPod(100)).replicas).toBe(10);
    expect(replicasForMetric(10, pods(...Array(10).fill(91)), perPod(100)).replicas).toBe(10);
    expect(replicasForMetric(10, pods(...Array(10).fill(111)), perPod(100)).replicas).toBe(12);
  });
  it("computes ceil(currentReplicas × current ÷ target) for CPU utilisation", () => {
    const proposal = replicasForMetric(4, pods(84, 84, 84, 84), cpu(70));
    expect(proposal.replicas).toBe(5);
    expect(proposal.currentAverage).toBe(84);
    expect(proposal.ratio).toBeCloseTo(1.2);
  });
  it("scaling down, assumes pods without metrics use 100% — and skips when that reverses the direction", () => {
    // 30% and 30% against 50% says scale down; the missing pod at 100% brings the mean to 53%.
    expect(replicasForMetric(3, pods(30, 30, null), cpu(50)).replicas).toBe(3);
    // 10% and 10%: with the missing pod at 100% the mean is 40% — still down: ceil(0.8 × 3) = 3.
    expect(replicasForMetric(4, pods(10, 10, null), cpu(50)).replicas).toBe(3);
  });
  it("scaling up, assumes pods without metrics use 0%", () => {
    // 90% and 90% against 50%; the missing pod at 0% gives 60%: ratio 1.2 over 3 pods → 4.
    expect(replicasForMetric(3, pods(90, 90, null), cpu(50)).replicas).toBe(4);
  });
  it("treats not-yet-ready pods as 0% when scaling up on CPU, but not on other resources", () => {
    const samples: PodSample[] = [...pods(90, 90), { name: "starting", ready: false, value: 90 }];
    expect(replicasForMetric(3, samples, cpu(50)).replicas).toBe(4);
    expect(replicasForMetric(3, samples, memory(50)).replicas).toBe(6);
  });
  it("treats pending pods (not ready, no metrics) as 0% when scaling up, for any metric", () => {
    const samples: PodSample[] = [...pods(150, 150), { name: "pending", ready: false, value: null }];
    expect(replicasForMetric(3, samples, perPod(100)).replicas).toBe(3); // (150+150+0)/3 = 100: within tolerance
  });
  it("proposes no change without any metric", () => {
    const proposal = replicasForMetric(3, pods(null, null), cpu(70));
    expect(proposal).toMatchObject({ replicas: 3, ratio: null });
  });
});

describe("HorizontalAutoscaler (horizontal.go)", () => {
  const second = 1000;

  it("takes the largest proposal across metrics", () => {
    const hpa = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 50,
      behavior: { scaleUp: unlimited, scaleDown: unlimited },
    });
    const decision = hpa.decide(0, 4, [
      { spec: cpu(70), samples: pods(84, 84, 84, 84) },
      { spec: perPod(100), samples: pods(200, 200, 200, 200) },
    ]);
    expect(decision.desiredReplicas).toBe(8);
    expect(decision.driver?.metric).toBe("rps");
  });

  it("clamps to min and max replicas before looking at metrics, and does nothing at zero replicas", () => {
    const hpa = new HorizontalAutoscaler({
      minReplicas: 3,
      maxReplicas: 20,
      behavior: { scaleUp: unlimited, scaleDown: unlimited },
    });
    expect(hpa.decide(0, 2, []).desiredReplicas).toBe(3);
    expect(hpa.decide(0, 25, []).desiredReplicas).toBe(20);
    expect(hpa.decide(0, 0, []).reason).toBe("ScalingDisabled");
    expect(hpa.decide(0, 10, [{ spec: cpu(70), samples: pods(...Array(10).fill(700)) }])).toMatchObject({
      desiredReplicas: 20,
      reason: "TooManyReplicas",
    });
  });

  it("scales down 80 → 10 with 'Pods 4 per 60 s' and 'Percent 10 per 60 s' (Max): 8 at a time while above 40 pods", () => {
    const scaleDown = rules(0, [
      { type: "Pods", value: 4, periodSeconds: 60 },
      { type: "Percent", value: 10, periodSeconds: 60 },
    ]);
    const hpa = new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 100, behavior: { scaleUp: unlimited, scaleDown } });
    const wantTen = (n: number) => [{ spec: perPod(100), samples: pods(...Array(n).fill(12.5)) }];
    let replicas = 80;
    const steps: number[] = [];
    for (let minute = 0; minute < 6; minute++) {
      replicas = hpa.decide(minute * 60 * second, replicas, wantTen(replicas)).desiredReplicas;
      steps.push(replicas);
    }
    // 80 × 0.9 = 72; 72 × 0.9 = 64.8 → 64 (8 removed, as the documentation says); 57.6 → 57; 51.3 → 51; 45.9 → 45; 40.5 → 40.
    expect(steps).toEqual([72, 64, 57, 51, 45, 40]);
    // At 40 pods both policies allow 4; a second decision within the same 60 s removes nothing more.
    expect(hpa.decide(405 * second, 40, wantTen(40)).desiredReplicas).toBe(36);
    expect(hpa.decide(420 * second, 36, wantTen(36)).desiredReplicas).toBe(36);
  });

  it("uses the smallest change with selectPolicy Min", () => {
    const scaleDown = rules(
      0,
      [
        { type: "Pods", value: 4, periodSeconds: 60 },
        { type: "Percent", value: 10, periodSeconds: 60 },
      ],
      "Min",
    );
    const hpa = new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 100, behavior: { scaleUp: unlimited, scaleDown } });
    expect(hpa.decide(0, 80, [{ spec: perPod(100), samples: pods(...Array(80).fill(12.5)) }]).desiredReplicas).toBe(76);
  });

  it("never scales down with selectPolicy Disabled", () => {
    const hpa = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 100,
      behavior: { scaleUp: unlimited, scaleDown: rules(0, [{ type: "Percent", value: 100, periodSeconds: 15 }], "Disabled") },
    });
    expect(hpa.decide(0, 10, [{ spec: cpu(70), samples: pods(...Array(10).fill(5)) }])).toMatchObject({ desiredReplicas: 10 });
  });

  it("follows the default scale-up behaviour: the larger of +4 pods and +100% per 15 s", () => {
    const hpa = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 100,
      behavior: {
        scaleUp: rules(0, [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ]),
        scaleDown: unlimited,
      },
    });
    const busy = (n: number) => [{ spec: cpu(50), samples: pods(...Array(n).fill(500)) }];
    const first = hpa.decide(0, 1, busy(1));
    expect(first).toMatchObject({ desiredReplicas: 5, reason: "ScaleUpLimit", metricReplicas: 10 });
    expect(hpa.decide(5 * second, 5, busy(5)).desiredReplicas).toBe(5); // same period: already +4
    expect(hpa.decide(16 * second, 5, busy(5)).desiredReplicas).toBe(10); // new period: +100%
  });

  it("stabilizes scale-down over the window: the highest recommendation of the last 300 s wins", () => {
    const hpa = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 100,
      behavior: { scaleUp: unlimited, scaleDown: rules(300, [{ type: "Percent", value: 100, periodSeconds: 15 }]) },
    });
    const asking = (n: number, value: number) => [{ spec: perPod(100), samples: pods(...Array(n).fill(value)) }];
    expect(hpa.decide(0, 10, asking(10, 100)).desiredReplicas).toBe(10);
    const held = hpa.decide(60 * second, 10, asking(10, 50));
    expect(held).toMatchObject({ desiredReplicas: 10, metricReplicas: 5, reason: "ScaleDownStabilized" });
    expect(hpa.decide(301 * second, 10, asking(10, 50)).desiredReplicas).toBe(5);
  });

  it("stabilizes scale-up: the lowest recommendation in the scale-up window wins", () => {
    const hpa = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 100,
      behavior: { scaleUp: rules(60, [{ type: "Percent", value: 1000, periodSeconds: 60 }]), scaleDown: unlimited },
    });
    const asking = (n: number, value: number) => [{ spec: perPod(100), samples: pods(...Array(n).fill(value)) }];
    expect(hpa.decide(0, 4, asking(4, 100)).desiredReplicas).toBe(4);
    expect(hpa.decide(30 * second, 4, asking(4, 200))).toMatchObject({ desiredReplicas: 4, reason: "ScaleUpStabilized" });
    expect(hpa.decide(61 * second, 4, asking(4, 200)).desiredReplicas).toBe(8);
  });
});
