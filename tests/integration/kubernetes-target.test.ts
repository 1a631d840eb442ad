// The `kubernetes` scaling target through @kubernetes/client-node against a stand-in API server
// that follows the autoscaling/v2 HorizontalPodAutoscaler contract (tests/helpers): the target
// reads the replica count from the HPA's status, patches bounds, metrics and behaviour when the
// policy differs, leaves it alone when it does not, and notices an API server that drops the
// per-direction tolerances.
import * as k8s from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { HPA_NAME, renderManifests } from "../../lib/control-plane/scaling/manifests";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { comparableHpaSpec, kubernetesTarget, TOLERANCE_DROPPED } from "../../lib/control-plane/scaling/targets/kubernetes";
import type { Decision } from "../../lib/control-plane/scaling/hpa";
import { startKubeApiServerStandIn, type KubeApiServerStandIn } from "../helpers/kube-apiserver-stand-in";

const NS = "agenticorp";
let standIn: KubeApiServerStandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

function kubeConfigFor(url: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "stand-in", server: url, skipTLSVerify: true }],
    users: [{ name: "leader", token: "stand-in-token" }],
    contexts: [{ name: "stand-in", cluster: "stand-in", user: "leader", namespace: NS }],
    currentContext: "stand-in",
  });
  return kc;
}

const renderedHpa = (policy: keyof typeof PRESETS) => {
  const hpa = renderManifests({ policyName: policy, spec: PRESETS[policy] }).find((m) => m.kind === "HorizontalPodAutoscaler")!;
  return JSON.parse(JSON.stringify(hpa));
};
const decision = (current: number, desired: number): Decision => ({
  currentReplicas: current,
  desiredReplicas: desired,
  metricReplicas: desired,
  proposals: [],
  reason: "DesiredWithinRange",
});
const signal = new AbortController().signal;
const patches = () => standIn!.requests.filter((r) => r.method === "PATCH");

describe("kubernetes target", () => {
  it("reports a missing HPA clearly", async () => {
    standIn = await startKubeApiServerStandIn();
    const target = kubernetesTarget({ kubeConfig: kubeConfigFor(standIn.url), namespace: NS, hpaName: HPA_NAME });
    await expect(target.observe(signal)).rejects.toThrow(
      /HPA agenticorp\/agenticorp-hpa: HTTP 404: horizontalpodautoscalers.autoscaling "agenticorp-hpa" not found \(apply deploy\/kubernetes first\)/,
    );
  });

  it("reads the replica count from the HPA's status", async () => {
    standIn = await startKubeApiServerStandIn();
    standIn.put(NS, renderedHpa("balanced"));
    const target = kubernetesTarget({ kubeConfig: kubeConfigFor(standIn.url), namespace: NS, hpaName: HPA_NAME });
    expect(await target.observe(signal)).toEqual({ currentReplicas: 3, members: null }); // no status yet: minReplicas
    standIn.setStatus(NS, HPA_NAME, { currentReplicas: 7, desiredReplicas: 8 });
    expect((await target.observe(signal)).currentReplicas).toBe(7);
  });

  it("patches the HPA to a new policy with a JSON merge patch, then leaves it alone", async () => {
    standIn = await startKubeApiServerStandIn();
    const before = standIn.put(NS, renderedHpa("balanced"));
    const target = kubernetesTarget({ kubeConfig: kubeConfigFor(standIn.url), namespace: NS, hpaName: HPA_NAME });
    await target.observe(signal);

    expect(
      await target.apply({ policyName: "balanced", spec: PRESETS.balanced, decision: decision(3, 3) }, signal),
    ).toMatchObject({ outcome: "unchanged" });
    expect(patches()).toHaveLength(0);

    const result = await target.apply({ policyName: "aggressive", spec: PRESETS.aggressive, decision: decision(3, 3) }, signal);
    expect(result.outcome).toBe("applied");
    expect(patches()).toHaveLength(1);
    expect(patches()[0]!.contentType).toBe("application/merge-patch+json");
    const after = standIn.get(NS, HPA_NAME)! as any;
    expect(after.spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 20,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          policies: [
            { type: "Percent", value: 100, periodSeconds: 30 },
            { type: "Pods", value: 4, periodSeconds: 30 },
          ],
          tolerance: "0",
        },
        scaleDown: {
          stabilizationWindowSeconds: 600,
          policies: [{ type: "Pods", value: 1, periodSeconds: 120 }],
          tolerance: "0.4999",
        },
      },
    });
    // Unchanged by the patch: what the policy does not own.
    expect(after.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "agenticorp" });
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number((before.metadata as any).resourceVersion));
    expect(after.metadata.generation).toBe(2);
    expect(after.metadata.annotations["agenticorp.dev/scaling-policy"]).toBe("aggressive");
    expect(result.detail).toContain(`resourceVersion ${after.metadata.resourceVersion}`);

    await target.observe(signal);
    expect(
      await target.apply({ policyName: "aggressive", spec: PRESETS.aggressive, decision: decision(3, 3) }, signal),
    ).toMatchObject({ outcome: "unchanged" });
    expect(patches()).toHaveLength(1);
  });

  it("compares quantities as numbers, whatever form the API server answers in", () => {
    const spec = { ...PRESETS.balanced, requestsPerSecondPerInstance: 12.5, queueDepthTarget: 1_000 };
    const wanted = renderManifests({ policyName: "x", spec }).find((m) => m.kind === "HorizontalPodAutoscaler")!.spec as any;
    const canonical = structuredClone(wanted);
    canonical.behavior.scaleDown.tolerance = "571400u";
    canonical.metrics[1].pods.target.averageValue = "12500m";
    canonical.metrics[2].external.target.averageValue = "1k";
    expect(comparableHpaSpec(canonical)).toBe(comparableHpaSpec(wanted));
    canonical.metrics[2].external.target.averageValue = "2k";
    expect(comparableHpaSpec(canonical)).not.toBe(comparableHpaSpec(wanted));
    canonical.metrics[2].external.target.averageValue = "1k";
    canonical.behavior.scaleDown.tolerance = "0.6";
    expect(comparableHpaSpec(canonical)).not.toBe(comparableHpaSpec(wanted));
  });

  it("notices an API server that drops the per-direction tolerances, and does not patch in a loop", async () => {
    standIn = await startKubeApiServerStandIn({ dropTolerance: true });
    standIn.put(NS, renderedHpa("balanced"));
    const target = kubernetesTarget({ kubeConfig: kubeConfigFor(standIn.url), namespace: NS, hpaName: HPA_NAME });
    await target.observe(signal);
    const first = await target.apply({ policyName: "balanced", spec: PRESETS.balanced, decision: decision(3, 3) }, signal);
    expect(first.outcome).toBe("applied");
    expect(first.detail).toContain(TOLERANCE_DROPPED);
    expect(target.toleranceDropped).toBe(true);
    await target.observe(signal);
    const second = await target.apply({ policyName: "balanced", spec: PRESETS.balanced, decision: decision(3, 3) }, signal);
    expect(second).toMatchObject({ outcome: "unchanged" });
    expect(second.detail).toContain(TOLERANCE_DROPPED);
    expect(patches()).toHaveLength(1);
  });

  it("reports a refused patch as failed", async () => {
    standIn = await startKubeApiServerStandIn();
    standIn.put(NS, renderedHpa("balanced"));
    const target = kubernetesTarget({ kubeConfig: kubeConfigFor(standIn.url), namespace: NS, hpaName: HPA_NAME });
    await target.observe(signal);
    const broken = { ...PRESETS.balanced, minReplicas: 9, maxReplicas: 4 };
    const result = await target.apply({ policyName: "broken", spec: broken, decision: decision(3, 3) }, signal);
    expect(result.outcome).toBe("failed");
    expect(result.detail).toMatch(/HTTP 422: .*must be greater than or equal to `minReplicas`/);
  });
});

describe("the stand-in follows the HPA resource's contract", () => {
  const path = (name: string) => `/apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/${name}`;
  const call = async (method: string, name: string, body?: unknown, contentType = "application/json") => {
    const response = await fetch(`${standIn!.url}${path(name)}`, {
      method,
      headers: { "content-type": contentType },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  };

  it("answers an unknown name with a 404 Status object", async () => {
    standIn = await startKubeApiServerStandIn();
    const { status, body } = await call("GET", "nope");
    expect(status).toBe(404);
    expect(body).toMatchObject({
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      reason: "NotFound",
      code: 404,
      details: { name: "nope", group: "autoscaling", kind: "horizontalpodautoscalers" },
    });
  });

  it("bumps resourceVersion on every write and refuses a PUT of a stale one", async () => {
    standIn = await startKubeApiServerStandIn();
    standIn.put(NS, renderedHpa("balanced"));
    const first = (await call("GET", HPA_NAME)).body;
    const patched = await call("PATCH", HPA_NAME, { spec: { maxReplicas: 12 } }, "application/strategic-merge-patch+json");
    expect(patched.status).toBe(200);
    expect(Number(patched.body.metadata.resourceVersion)).toBe(Number(first.metadata.resourceVersion) + 1);
    const stale = await call("PUT", HPA_NAME, first);
    expect(stale.status).toBe(409);
    expect(stale.body.reason).toBe("Conflict");
    const fresh = await call("PUT", HPA_NAME, { ...patched.body, spec: { ...patched.body.spec, maxReplicas: 11 } });
    expect(fresh.status).toBe(200);
    expect(fresh.body.spec.maxReplicas).toBe(11);
  });

  it("replaces lists whole on a merge patch, and refuses patch types it does not implement", async () => {
    standIn = await startKubeApiServerStandIn();
    standIn.put(NS, renderedHpa("aggressive"));
    const patched = await call(
      "PATCH",
      HPA_NAME,
      { spec: { behavior: { scaleUp: { policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } } } },
      "application/merge-patch+json",
    );
    expect(patched.body.spec.behavior.scaleUp.policies).toEqual([{ type: "Pods", value: 1, periodSeconds: 60 }]);
    expect(patched.body.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(
      (await call("PATCH", HPA_NAME, [{ op: "replace", path: "/spec/maxReplicas", value: 4 }], "application/json-patch+json"))
        .status,
    ).toBe(415);
  });
});
