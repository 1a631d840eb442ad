// Decisions in words, and the pods the decider builds from the registry and the target's list.
import { describe, expect, it } from "vitest";
import { explainDecision } from "../../lib/scaling/explain";
import { HorizontalAutoscaler, type PodSample } from "../../lib/scaling/hpa";
import { metricSpecs, PRESETS, toHpaSpec, type PolicySpec } from "../../lib/scaling/policies";
import { podViews, samplesFor, type RegistryInstance } from "../../lib/scaling/samples";

const pods = (...values: Array<number | null>): PodSample[] => values.map((value, i) => ({ name: `p${i}`, ready: true, value }));
const unlimitedBalanced: PolicySpec = {
  ...PRESETS.balanced,
  minReplicas: 1,
  behavior: {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Percent", value: 1000, periodSeconds: 1 }] },
    scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 1 }] },
  },
};
const decide = (spec: PolicySpec, current: number, samples: PodSample[], at = 0, hpa = new HorizontalAutoscaler(toHpaSpec(spec))) =>
  hpa.decide(at, current, [{ spec: metricSpecs(spec)[0]!, samples }]);

describe("explainDecision", () => {
  it("says why it scales up", () => {
    expect(explainDecision(decide(unlimitedBalanced, 4, pods(84, 84, 84, 84)), unlimitedBalanced)).toBe("5 because average CPU 84% is above the 70% target");
  });
  it("says why it scales down", () => {
    expect(explainDecision(decide(unlimitedBalanced, 4, pods(20, 20, 20, 20)), unlimitedBalanced)).toBe("2 because average CPU 20% is at or below the 30% scale-down threshold");
  });
  it("says why it holds", () => {
    expect(explainDecision(decide(unlimitedBalanced, 4, pods(50, 50, 50, 50)), unlimitedBalanced)).toBe("4 because average CPU 50% is between the 30% scale-down and 70% scale-up thresholds");
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
    expect(explainDecision(decide(PRESETS.balanced, 1, pods(10)), PRESETS.balanced)).toBe("3 because 1 is below the policy's minimum of 3");
  });
  it("says when there is nothing to go on", () => {
    expect(explainDecision(decide(PRESETS.balanced, 3, pods(null, null, null)), PRESETS.balanced)).toBe("3: no instance reported CPU yet, so nothing changes");
  });
});

describe("podViews", () => {
  const options = { staleAfterMs: 15_000, cpuRequestMillicores: 500, memoryRequestBytes: 1_000_000_000 };
  const row = (id: string, status: RegistryInstance["status"], ageMs: number, cpu: number, rss = 500_000_000): RegistryInstance => ({ id, status, ageMs, vitals: { cpu_percent: cpu, rss_bytes: rss } });

  it("takes CPU as a share of the request, memory as a share of the memory request", () => {
    expect(podViews([row("a", "healthy", 1_000, 42)], null, options)).toEqual([{ id: "a", ready: true, cpu: 84, memory: 50, rps: null }]);
  });
  it("without a target's list: healthy instances count, draining ones are left out, stale vitals are missing", () => {
    const views = podViews([row("a", "healthy", 1_000, 10), row("b", "draining", 1_000, 90), row("c", "healthy", 60_000, 90)], null, options);
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
