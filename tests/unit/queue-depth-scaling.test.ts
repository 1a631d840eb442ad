// Queue depth as the HPA computes an External metric with an AverageValue target
// (replica_calculator.go GetExternalPerPodMetricReplicas): desired = ceil(queued ÷ target), within
// the tolerance of current × target nothing changes, and combined with CPU and requests per
// instance the largest proposal wins (horizontal.go computeReplicasForMetrics), within min/max and
// the behaviour. Plus the policy's spec, its HPA metric and the words the console shows.
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { describe, expect, it } from "vitest";
import { HorizontalAutoscaler, replicasForMetric, type MetricSpec, type PodSample } from "../../lib/control-plane/scaling/hpa";
import { explainDecision } from "../../lib/control-plane/scaling/explain";
import { hpaMetrics, renderManifests } from "../../lib/control-plane/scaling/manifests";
import {
  METRIC_NAMES,
  metricSpecs,
  parsePolicySpec,
  policyFields,
  PRESETS,
  toHpaSpec,
  type PolicySpec,
} from "../../lib/control-plane/scaling/policies";
import { samplesFor, type PodView } from "../../lib/control-plane/scaling/samples";

const queue = (target: number): MetricSpec => ({ name: METRIC_NAMES.queue, type: "ExternalAverageValue", target, isCpu: false });
const cpu = (target: number): MetricSpec => ({ name: METRIC_NAMES.cpu, type: "Utilization", target, isCpu: true });
const rps = (target: number): MetricSpec => ({ name: METRIC_NAMES.rps, type: "AverageValue", target, isCpu: false });
const series = (...values: number[]): PodSample[] => values.map((value, i) => ({ name: `series-${i}`, ready: true, value }));
const pods = (...values: Array<number | null>): PodSample[] =>
  values.map((value, i) => ({ name: `pod-${i}`, ready: true, value }));
const fast = {
  stabilizationWindowSeconds: 0,
  selectPolicy: "Max" as const,
  policies: [{ type: "Pods" as const, value: 100, periodSeconds: 1 }],
};

describe("an External AverageValue metric (queue depth)", () => {
  it("asks for ceil(queued ÷ target), whatever the current count", () => {
    expect(replicasForMetric(1, series(20_000), queue(1_000))).toMatchObject({
      replicas: 20,
      ratio: 20,
      currentAverage: 20_000,
      total: 20_000,
    });
    expect(replicasForMetric(4, series(2_001), queue(1_000))).toMatchObject({ replicas: 3, currentAverage: 500.25 });
    expect(replicasForMetric(8, series(0), queue(1_000))).toMatchObject({ replicas: 0, ratio: 0 });
  });

  it("sums the metric's series, as the controller does with every series the selector matches", () => {
    expect(replicasForMetric(1, series(1_500, 1_500), queue(1_000)).replicas).toBe(3);
  });

  it("keeps the count within the tolerance of current × target (usage ÷ (target × current))", () => {
    // 3 instances × 1000 = 3000: 3200 is a ratio of 1.067, inside the default 0.1.
    expect(replicasForMetric(3, series(3_200), queue(1_000)).replicas).toBe(3);
    expect(replicasForMetric(3, series(3_400), queue(1_000)).replicas).toBe(4);
    // The policy's own band: up at once (tolerance 0), down only below 1 − 0.5714.
    expect(replicasForMetric(3, series(3_001), queue(1_000), { scaleUp: 0, scaleDown: 0.5714 }).replicas).toBe(4);
    expect(replicasForMetric(3, series(1_300), queue(1_000), { scaleUp: 0, scaleDown: 0.5714 }).replicas).toBe(3);
    expect(replicasForMetric(3, series(1_200), queue(1_000), { scaleUp: 0, scaleDown: 0.5714 }).replicas).toBe(2);
  });

  it("ignores which pods are ready or have metrics: it is one fleet-wide number", () => {
    const withStarting: PodSample[] = [{ name: "fleet", ready: false, value: 5_000 }];
    expect(replicasForMetric(2, withStarting, queue(1_000)).replicas).toBe(5);
  });

  it("has no data without a series (the queue could not be read)", () => {
    expect(replicasForMetric(3, [], queue(1_000))).toMatchObject({ replicas: 3, ratio: null, currentAverage: null });
  });
});

describe("queue depth combined with CPU and requests per instance: the largest proposal wins", () => {
  const hpa = () => new HorizontalAutoscaler({ minReplicas: 1, maxReplicas: 20, behavior: { scaleUp: fast, scaleDown: fast } });

  it("scales out on a deep queue while CPU and request rate ask for nothing", () => {
    const decision = hpa().decide(0, 1, [
      { spec: cpu(70), samples: pods(20) },
      { spec: rps(50), samples: pods(1) },
      { spec: queue(1_000), samples: series(12_345) },
    ]);
    expect(decision).toMatchObject({ desiredReplicas: 13, metricReplicas: 13, reason: "DesiredWithinRange" });
    expect(decision.driver?.metric).toBe(METRIC_NAMES.queue);
  });

  it("lets CPU win when it asks for more than the queue", () => {
    const decision = hpa().decide(0, 4, [
      { spec: cpu(50), samples: pods(100, 100, 100, 100) },
      { spec: queue(1_000), samples: series(2_000) },
    ]);
    expect(decision).toMatchObject({ desiredReplicas: 8 });
    expect(decision.driver?.metric).toBe(METRIC_NAMES.cpu);
  });

  it("caps the queue's count at the policy's maximum", () => {
    expect(
      hpa().decide(0, 1, [
        { spec: cpu(70), samples: pods(10) },
        { spec: queue(100), samples: series(1_000_000) },
      ]),
    ).toMatchObject({ desiredReplicas: 20, reason: "TooManyReplicas" });
  });

  it("scales back in when the queue drains, down to what the other metrics ask", () => {
    expect(
      hpa().decide(0, 10, [
        { spec: cpu(70), samples: pods(...Array(10).fill(35)) },
        { spec: queue(1_000), samples: series(0) },
      ]),
    ).toMatchObject({ desiredReplicas: 5 });
  });

  it("never scales down on CPU alone while the queue cannot be read", () => {
    expect(
      hpa().decide(0, 10, [
        { spec: cpu(70), samples: pods(...Array(10).fill(5)) },
        { spec: queue(1_000), samples: [] },
      ]),
    ).toMatchObject({ desiredReplicas: 10, reason: "MetricsIncomplete" });
  });

  it("is held by the scale-up rate policy like any other metric", () => {
    const limited = new HorizontalAutoscaler({
      minReplicas: 1,
      maxReplicas: 20,
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: "Max",
          policies: [{ type: "Pods", value: 2, periodSeconds: 60 }],
        },
        scaleDown: fast,
      },
    });
    expect(
      limited.decide(0, 1, [
        { spec: cpu(70), samples: pods(10) },
        { spec: queue(1_000), samples: series(20_000) },
      ]),
    ).toMatchObject({ desiredReplicas: 3, metricReplicas: 20, reason: "ScaleUpLimit" });
  });
});

describe("the policy's queueDepthTarget", () => {
  const withQueue: PolicySpec = { ...PRESETS.balanced, minReplicas: 1, queueDepthTarget: 1_000 };

  it("is optional: null and absent both mean off, and the presets keep the guide's numbers without it", () => {
    for (const name of ["aggressive", "balanced", "conservative"] as const)
      expect(PRESETS[name].queueDepthTarget).toBeUndefined();
    expect(metricSpecs({ ...PRESETS.balanced, queueDepthTarget: null }).map((m) => m.name)).toEqual(["cpu"]);
    expect(metricSpecs(withQueue).map((m) => m.name)).toEqual(["cpu", "batch_queue_depth"]);
    expect(parsePolicySpec({ ...PRESETS.balanced, queueDepthTarget: null })).toMatchObject({ ok: true });
  });

  it("must be above 0", () => {
    expect(parsePolicySpec({ ...PRESETS.balanced, queueDepthTarget: 0 })).toEqual({
      ok: false,
      error: "queueDepthTarget: queueDepthTarget must be above 0",
    });
    expect(parsePolicySpec({ ...PRESETS.balanced, queueDepthTarget: "many" })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^queueDepthTarget:/),
    });
  });

  it("renders as the HPA's External metric on the adapter's queue series, AverageValue per instance", () => {
    expect(hpaMetrics(withQueue).at(-1)).toEqual({
      type: "External",
      external: { metric: { name: "agenticorp_batch_jobs_queued" }, target: { type: "AverageValue", averageValue: "1000" } },
    });
    expect(hpaMetrics(PRESETS.balanced).some((m) => m.type === "External")).toBe(false);
    // Against the autoscaling/v2 schema, in both layouts, with every other target too.
    for (const layout of ["single", "split"] as const) {
      const spec = { ...withQueue, memory: { targetPercent: 80 }, requestsPerSecondPerInstance: 12.5, queueDepthTarget: 250.5 };
      const hpa = renderManifests({ policyName: "queue", spec, layout }).find((m) => m.kind === "HorizontalPodAutoscaler")!;
      expect(() => new HorizontalPodAutoscaler(structuredClone(hpa) as never).validate()).not.toThrow();
      expect(JSON.stringify(hpa)).toContain('"averageValue":"250500m"');
    }
  });

  it("shows in the policy's fields", () => {
    expect(policyFields(withQueue)).toContainEqual(["Queued batch jobs per instance", "1000"]);
    expect(policyFields(PRESETS.balanced)).toContainEqual(["Queued batch jobs per instance", "none"]);
  });

  it("reads the leader's fleet-wide count as the metric's one series, or none without data", () => {
    const spec = metricSpecs(withQueue).find((m) => m.name === METRIC_NAMES.queue)!;
    const views: PodView[] = [{ id: "a", ready: true, cpu: 10, memory: null, rps: null }];
    expect(samplesFor(spec, views, { queueDepth: 42 })).toEqual([
      { name: "agenticorp_batch_jobs_queued", ready: true, value: 42 },
    ]);
    expect(samplesFor(spec, views, { queueDepth: null })).toEqual([]);
  });

  it("is explained with the queue's size, per instance, against the target", () => {
    const hpa = new HorizontalAutoscaler(toHpaSpec(withQueue));
    const metrics = metricSpecs(withQueue).map((m) => ({
      spec: m,
      samples: m.name === METRIC_NAMES.queue ? series(20_000) : pods(12),
    }));
    const decision = hpa.decide(0, 1, metrics);
    // Balanced: +50% per minute from 1 → 2; the queue asks for 20.
    expect(decision).toMatchObject({ desiredReplicas: 2, metricReplicas: 20 });
    expect(explainDecision(decision, withQueue)).toBe(
      "2 because queued batch jobs 20,000 (20,000/instance) is above the 1,000/instance target (it asks for 20; scale-up is limited to 50% per 60 s)",
    );
  });
});
