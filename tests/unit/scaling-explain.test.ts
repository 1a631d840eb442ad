// Decisions in words, and the pods the decider builds from the registry and the target's list.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { explainDecision } from "../../lib/control-plane/scaling/explain";
import { HorizontalAutoscaler, type PodSample } from "../../lib/control-plane/scaling/hpa";
import { metricSpecs, parsePolicySpec, PRESETS, toHpaSpec, type PolicySpec } from "../../lib/control-plane/scaling/policies";
import { podViews, samplesFor, type RegistryInstance } from "../../lib/control-plane/scaling/samples";

const pods = (...values: Array<number | null>): PodSample[] => values.map((value, i) => ({ name: `p${i}`, ready: true, value }));
const unlimitedBalanced: PolicySpec = {
  ...PRESETS.balanced,
  minReplicas: 1,
  behavior: {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 1000, periodSeconds: 1 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 100, periodSeconds: 1 }],
    },
  },
};
const decide = (
  spec: PolicySpec,
  current: number,
  samples: PodSample[],
  at = 0,
  hpa = new HorizontalAutoscaler(toHpaSpec(spec)),
) => hpa.decide(at, current, [{ spec: metricSpecs(spec)[0]!, samples }]);

describe("explainDecision", () => {
  it("says why it scales up", () => {
    expect(explainDecision(decide(unlimitedBalanced, 4, pods(84, 84, 84, 84)), unlimitedBalanced)).toBe(
      "5 because average CPU 84% is above the 70% target",
    );
  });
  it("says why it scales down", () => {
    expect(explainDecision(decide(unlimitedBalanced, 4, pods(20, 20, 20, 20)), unlimitedBalanced)).toBe(
      "2 because average CPU 20% is at or below the 30% scale-down threshold",
    );
  });
  it("says why it holds", () => {
    expect(explainDecision(decide(unlimitedBalanced, 4, pods(50, 50, 50, 50)), unlimitedBalanced)).toBe(
      "4 because average CPU 50% is between the 30% scale-down and 70% scale-up thresholds",
    );
  });
  it("names the rate limit, the stabilization window and the bounds when they decide", () => {
    const hpa = new HorizontalAutoscaler(toHpaSpec(PRESETS.balanced));
    decide(PRESETS.balanced, 4, pods(50, 50, 50, 50), 0, hpa);
    expect(explainDecision(decide(PRESETS.balanced, 4, pods(140, 140, 140, 140), 30_000, hpa), PRESETS.balanced)).toBe(
      "4, not 8: average CPU 140% is above the 70% target, but scale-up waits for the lowest recommendation of the last 60 s",
    );
    expect(explainDecision(decide(PRESETS.balanced, 4, pods(140, 140, 140, 140), 61_000, hpa), PRESETS.balanced)).toBe(
      "6 because average CPU 140% is above the 70% target (it asks for 8; scale-up is limited to 50% per 60 s)",
    );
    expect(explainDecision(decide(unlimitedBalanced, 10, pods(...Array(10).fill(200))), unlimitedBalanced)).toBe(
      "15 because average CPU 200% is above the 70% target (it asks for 29, above the policy's maximum of 15)",
    );
    expect(explainDecision(decide(PRESETS.balanced, 1, pods(10)), PRESETS.balanced)).toBe(
      "3 because 1 is below the policy's minimum of 3",
    );
  });
  it("says when there is nothing to go on", () => {
    expect(explainDecision(decide(PRESETS.balanced, 3, pods(null, null, null)), PRESETS.balanced)).toBe(
      "3: no instance reported CPU yet, so nothing changes",
    );
  });
});

describe("explainDecision over the decision space", () => {
  const rules = fc.record({
    stabilizationWindowSeconds: fc.integer({ min: 0, max: 300 }),
    selectPolicy: fc.constantFrom("Max" as const, "Min" as const, "Disabled" as const),
    policies: fc.array(
      fc.oneof(
        fc.record({
          type: fc.constant("Pods" as const),
          value: fc.integer({ min: 1, max: 10 }),
          periodSeconds: fc.integer({ min: 15, max: 120 }),
        }),
        fc.record({
          type: fc.constant("Percent" as const),
          value: fc.integer({ min: 1, max: 300 }),
          periodSeconds: fc.integer({ min: 15, max: 120 }),
        }),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  });
  const policy: fc.Arbitrary<PolicySpec> = fc
    .record({
      up: fc.integer({ min: 2, max: 200 }),
      downShare: fc.double({ min: 0, max: 0.99, noNaN: true }),
      min: fc.integer({ min: 1, max: 8 }),
      extra: fc.integer({ min: 0, max: 20 }),
      memory: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
      rps: fc.option(fc.double({ min: 0.01, max: 500, noNaN: true }), { nil: undefined }),
      scaleUp: rules,
      scaleDown: rules,
    })
    .map(({ up, downShare, min, extra, memory, rps, scaleUp, scaleDown }) => {
      const parsed = parsePolicySpec({
        minReplicas: min,
        maxReplicas: min + extra,
        cpu: { scaleUpAtPercent: up, scaleDownAtPercent: Math.floor(up * downShare) },
        ...(memory === undefined ? {} : { memory: { targetPercent: memory } }),
        ...(rps === undefined ? {} : { requestsPerSecondPerInstance: rps }),
        behavior: { scaleUp, scaleDown },
      });
      if (!parsed.ok) throw new Error(parsed.error);
      return parsed.spec;
    });
  /** A pod's sample: ready or starting, a value near the interesting levels, or none. */
  const pod = fc.record({
    ready: fc.boolean(),
    value: fc.option(fc.oneof(fc.integer({ min: 0, max: 300 }), fc.double({ min: 0, max: 300, noNaN: true })), {
      nil: null,
      freq: 5,
    }),
  });
  const step = fc.record({
    afterSeconds: fc.integer({ min: 0, max: 200 }),
    current: fc.integer({ min: 0, max: 25 }),
    pods: fc.array(pod, { maxLength: 25 }),
    scale: fc.double({ min: 0.01, max: 3, noNaN: true }),
  });

  const NUMBER = String.raw`(-?\d+(?:\.\d+)?)`;
  const UNIT = String.raw`(?:%|/s)`;
  const CLAIM = new RegExp(
    String.raw`average (?:CPU|memory|requests per instance) ${NUMBER}${UNIT} is (?:above the ${NUMBER}${UNIT} target|at or below the ${NUMBER}${UNIT} scale-down threshold|between the ${NUMBER}${UNIT} scale-down and ${NUMBER}${UNIT} scale-up thresholds)`,
    "g",
  );

  it("never says what its numbers contradict, in any branch", () => {
    const reasons = new Set<string>();
    fc.assert(
      fc.property(policy, fc.array(step, { minLength: 1, maxLength: 5 }), (spec, steps) => {
        const hpa = new HorizontalAutoscaler(toHpaSpec(spec));
        const metrics = metricSpecs(spec);
        let now = 0;
        for (const s of steps) {
          now += s.afterSeconds * 1000;
          const pods = s.pods.slice(0, s.current);
          const decision = hpa.decide(
            now,
            s.current,
            metrics.map((m) => ({
              spec: m,
              samples: pods.map((p, i) => ({
                name: `p${i}`,
                ready: p.ready,
                value:
                  p.value === null ? null : m.type === "AverageValue" ? (p.value * m.target * s.scale) / 100 : p.value * s.scale,
              })),
            })),
          );
          reasons.add(decision.reason);
          const text = explainDecision(decision, spec);
          // The count it leads with is the decision's, and "not N" / "asks for N" is what the metrics asked for.
          expect(Number(/^(\d+)/.exec(text)?.[1]), text).toBe(decision.desiredReplicas);
          const not = /^\d+, not (\d+):/.exec(text);
          if (not) expect(Number(not[1]), text).toBe(decision.metricReplicas);
          for (const asks of text.matchAll(/asks? for (\d+)/g)) expect(Number(asks[1]), text).toBe(decision.metricReplicas);
          for (const max of text.matchAll(/maximum of (\d+)/g)) expect(Number(max[1]), text).toBe(spec.maxReplicas);
          for (const min of text.matchAll(/minimum of (\d+)/g)) expect(Number(min[1]), text).toBe(spec.minReplicas);
          expect(text).not.toMatch(/undefined|NaN|Infinity|limited to \(|limited to \)/);
          // Each claim is true of the numbers it prints.
          const claims = [...text.matchAll(CLAIM)];
          for (const [, average, above, below, low, high] of claims) {
            const a = Number(average);
            if (above !== undefined) expect(a, text).toBeGreaterThan(Number(above));
            if (below !== undefined) expect(a, text).toBeLessThanOrEqual(Number(below));
            if (low !== undefined) {
              expect(a, text).toBeGreaterThan(Number(low));
              expect(a, text).toBeLessThanOrEqual(Number(high));
            }
          }
          // A claim that points another way than the count says what makes the count.
          const direction = Math.sign(decision.metricReplicas - decision.currentReplicas);
          for (const [, , above, below] of claims) {
            const says = above !== undefined ? 1 : below !== undefined ? -1 : 0;
            if (says !== direction) expect(text, text).toContain("but the HPA's count for it is");
          }
          // A sentence about the metrics has a claim whenever some metric had data.
          if (
            [
              "WithinTolerance",
              "DesiredWithinRange",
              "ScaleUpLimit",
              "ScaleDownLimit",
              "TooManyReplicas",
              "TooFewReplicas",
              "ScaleUpStabilized",
              "ScaleDownStabilized",
            ].includes(decision.reason)
          ) {
            expect(claims.length, text).toBe(1);
          }
        }
      }),
      { numRuns: 3_000, seed: 20261204 },
    );
    // The generator reaches every branch the metrics can lead to.
    for (const reason of [
      "WithinTolerance",
      "DesiredWithinRange",
      "ScaleUpStabilized",
      "ScaleDownStabilized",
      "ScaleUpLimit",
      "ScaleDownLimit",
      "TooManyReplicas",
      "TooFewReplicas",
      "NoMetrics",
      "BelowMin",
      "AboveMax",
      "ScalingDisabled",
    ]) {
      expect(reasons, reason).toContain(reason);
    }
  });

  it("explains the case that contradicted itself: 4% CPU under a 5%/20% policy on one instance", () => {
    const spec: PolicySpec = { ...unlimitedBalanced, cpu: { scaleUpAtPercent: 20, scaleDownAtPercent: 5 } };
    const text = explainDecision(decide(spec, 1, pods(4)), spec);
    expect(text).toBe(
      "1 because average CPU 4% is at or below the 5% scale-down threshold, but the HPA's count for it is 1 (it rounds up, and counts instances without metrics as busy)",
    );
  });
});

describe("podViews", () => {
  const options = { staleAfterMs: 15_000, cpuRequestMillicores: 500, memoryRequestBytes: 1_000_000_000 };
  const row = (
    id: string,
    status: RegistryInstance["status"],
    ageMs: number,
    cpu: number,
    rss = 500_000_000,
  ): RegistryInstance => ({ id, status, ageMs, vitals: { cpu_percent: cpu, rss_bytes: rss } });

  it("takes CPU as a share of the request, memory as a share of the memory request", () => {
    expect(podViews([row("a", "healthy", 1_000, 42)], null, options)).toEqual([
      { id: "a", ready: true, cpu: 84, memory: 50, rps: null },
    ]);
  });
  it("without a target's list: healthy instances count, draining ones are left out, stale vitals are missing", () => {
    const views = podViews(
      [row("a", "healthy", 1_000, 10), row("b", "draining", 1_000, 90), row("c", "healthy", 60_000, 90)],
      null,
      options,
    );
    expect(views.map((v) => [v.id, v.ready, v.cpu])).toEqual([
      ["a", true, 20],
      ["c", true, null],
    ]);
  });
  it("with the target's list: starting instances are not ready, draining ones are left out, unregistered ones have no metrics", () => {
    const views = podViews(
      [row("a", "healthy", 1_000, 10), row("b", "healthy", 1_000, 30)],
      [
        { id: "a", state: "ready" },
        { id: "b", state: "starting" },
        { id: "c", state: "ready" },
        { id: "d", state: "draining" },
      ],
      options,
    );
    expect(views.map((v) => [v.id, v.ready, v.cpu])).toEqual([
      ["a", true, 20],
      ["b", false, 60],
      ["c", false, null],
    ]);
    expect(samplesFor(metricSpecs(PRESETS.balanced)[0]!, views)).toEqual([
      { name: "a", ready: true, value: 20 },
      { name: "b", ready: false, value: 60 },
      { name: "c", ready: false, value: null },
    ]);
  });
  it("takes requests per second from the metrics source by instance", () => {
    const views = podViews([row("a", "healthy", 1_000, 10)], null, { ...options, requestsPerSecond: new Map([["a", 12.345]]) });
    expect(views[0]!.rps).toBe(12.35);
  });
});
