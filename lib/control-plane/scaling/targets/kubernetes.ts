// SCALING_TARGET=kubernetes: Kubernetes' own HPA scales the Deployment; the leader keeps that
// HPA's bounds, metrics and behaviour equal to the active policy (a JSON merge patch when they
// differ; lists such as metrics and policies are replaced whole, as both merge-patch and the
// HPA's atomic lists do), and reads the replica count from its status. Its own decision, made with
// the same algorithm, is what the console shows as the recommendation.
//
// The client is @kubernetes/client-node (1.x: 2.x needs Node ≥ 22.19), configured in-cluster or
// from KUBECONFIG, or from options in the tests (a stand-in API server).
import * as k8s from "@kubernetes/client-node";
import stringify from "safe-stable-stringify";
import type { IHorizontalPodAutoscalerSpec } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerSpec";
import { hpaSpecFor } from "../manifests";
import { parseQuantity } from "../quantity";
import type { ApplyInput, ApplyResult, ScalingTarget, TargetObservation } from "./types";

export interface KubernetesTargetOptions {
  kubeConfig: k8s.KubeConfig;
  namespace: string;
  hpaName: string;
  /** Marks our writes in managedFields. */
  fieldManager?: string;
}

/** In-cluster when running in a pod, else KUBECONFIG or ~/.kube/config. */
export function defaultKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
}

const NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/** The pod's namespace when in a cluster, else the kubeconfig context's, else "default". */
export async function defaultNamespace(kc: k8s.KubeConfig): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const inCluster = await readFile(NAMESPACE_FILE, "utf8").catch(() => "");
  if (inCluster.trim()) return inCluster.trim();
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
}

type HpaSpecView = Pick<IHorizontalPodAutoscalerSpec, "minReplicas" | "maxReplicas" | "metrics" | "behavior">;

/**
 * The part of an HPA spec a policy decides, with every Quantity as a number: the API server
 * answers in canonical forms ("571400u"), so only numbers compare.
 */
export function comparableHpaSpec(spec: HpaSpecView | undefined, { ignoreTolerance = false } = {}): string {
  const rules = (r: NonNullable<NonNullable<HpaSpecView["behavior"]>["scaleUp"]> | undefined) =>
    r && {
      stabilizationWindowSeconds: r.stabilizationWindowSeconds,
      selectPolicy: r.selectPolicy ?? "Max",
      policies: r.policies,
      tolerance: ignoreTolerance || r.tolerance === undefined ? undefined : parseQuantity(r.tolerance),
    };
  const quantity = (value: string | number | undefined) => (value === undefined ? undefined : parseQuantity(value));
  const metrics = (spec?.metrics ?? []).map((m) =>
    m.pods
      ? { ...m, pods: { ...m.pods, target: { ...m.pods.target, averageValue: quantity(m.pods.target.averageValue) } } }
      : m.external
        ? {
            ...m,
            external: { ...m.external, target: { ...m.external.target, averageValue: quantity(m.external.target.averageValue) } },
          }
        : m,
  );
  return stringify({
    minReplicas: spec?.minReplicas ?? 1,
    maxReplicas: spec?.maxReplicas,
    metrics,
    behavior: { scaleUp: rules(spec?.behavior?.scaleUp), scaleDown: rules(spec?.behavior?.scaleDown) },
  })!;
}

function describeError(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const body: unknown = typeof error.body === "string" ? safeJson(error.body) : error.body;
    const message = (body as { message?: string } | undefined)?.message;
    return `HTTP ${error.code}${message ? `: ${message}` : ""}`;
  }
  return (error as Error).message;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

export const TOLERANCE_DROPPED =
  "the API server dropped behavior.*.tolerance (Kubernetes before 1.35, or 1.33–1.34 without the HPAConfigurableTolerance feature gate): its HPA scales up above 110% and down below 90% of the target instead of at the policy's thresholds";

export function kubernetesTarget(options: KubernetesTargetOptions): ScalingTarget & { readonly toleranceDropped: boolean } {
  const api = options.kubeConfig.makeApiClient(k8s.AutoscalingV2Api);
  const { namespace, hpaName } = options;
  const where = `HPA ${namespace}/${hpaName}`;
  let live: k8s.V2HorizontalPodAutoscaler | undefined;
  let toleranceDropped = false;

  const read = async () => {
    try {
      live = await api.readNamespacedHorizontalPodAutoscaler({ name: hpaName, namespace });
    } catch (error) {
      live = undefined;
      throw new Error(
        `${where}: ${describeError(error)}${error instanceof k8s.ApiException && error.code === 404 ? " (apply deploy/kubernetes first)" : ""}`,
      );
    }
    return live;
  };

  return {
    kind: "kubernetes",
    get toleranceDropped() {
      return toleranceDropped;
    },

    async observe(): Promise<TargetObservation> {
      const hpa = await read();
      // Before its first sync the HPA has no status: the Deployment runs at least minReplicas soon.
      return { currentReplicas: hpa.status?.currentReplicas ?? hpa.spec?.minReplicas ?? 1, members: null };
    },

    async apply({ spec, policyName }: ApplyInput): Promise<ApplyResult> {
      const wanted = hpaSpecFor(spec, live?.spec?.scaleTargetRef?.name);
      const hpa = live ?? (await read());
      if (
        comparableHpaSpec(hpa.spec, { ignoreTolerance: toleranceDropped }) ===
        comparableHpaSpec(wanted, { ignoreTolerance: toleranceDropped })
      ) {
        return {
          outcome: "unchanged",
          scaleChange: 0,
          detail: toleranceDropped ? `${where} follows ${policyName}; ${TOLERANCE_DROPPED}` : undefined,
        };
      }
      const patch = {
        metadata: { annotations: { "agenticorp.dev/scaling-policy": policyName } },
        spec: {
          minReplicas: wanted.minReplicas,
          maxReplicas: wanted.maxReplicas,
          metrics: wanted.metrics,
          behavior: wanted.behavior,
        },
      };
      try {
        live = await api.patchNamespacedHorizontalPodAutoscaler(
          { name: hpaName, namespace, body: patch, fieldManager: options.fieldManager ?? "agenticorp" },
          k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
        );
      } catch (error) {
        live = undefined;
        return { outcome: "failed", scaleChange: 0, detail: `patching ${where}: ${describeError(error)}` };
      }
      toleranceDropped =
        live.spec?.behavior?.scaleDown?.tolerance === undefined || live.spec?.behavior?.scaleUp?.tolerance === undefined;
      const version = live.metadata?.resourceVersion;
      return {
        outcome: "applied",
        scaleChange: 0,
        detail: `patched ${where} to policy ${policyName}${version ? ` (resourceVersion ${version})` : ""}${toleranceDropped ? `; ${TOLERANCE_DROPPED}` : ""}`,
      };
    },
  };
}
