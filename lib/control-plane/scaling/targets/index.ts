// The target named by SCALING_TARGET, built from the configuration.
import type { Logger } from "pino";
import type { Config } from "../../../platform/config";
import { localRunnerClient, localTarget } from "./local";
import { noTarget } from "./none";
import type { ScalingTarget } from "./types";

export type { ScalingTarget, TargetKind } from "./types";

type TargetConfig = Pick<Config, "SCALING_TARGET" | "LOCAL_CLUSTER_URL" | "KUBERNETES_NAMESPACE" | "KUBERNETES_HPA_NAME">;

/** Never rejects: a target that cannot be set up answers every call with why. */
export async function createTarget(config: TargetConfig, logger: Logger): Promise<ScalingTarget> {
  try {
    switch (config.SCALING_TARGET) {
      case "none":
        return noTarget();
      case "local":
        return localTarget(localRunnerClient(config.LOCAL_CLUSTER_URL!), {
          onLateFailure: (error, replicas) =>
            logger.warn({ err: error.message, replicas }, "the local cluster runner could not scale"),
        });
      case "kubernetes": {
        // Loaded only here: the Kubernetes client is megabytes of code every other instance would carry.
        const { defaultKubeConfig, defaultNamespace, kubernetesTarget } = await import("./kubernetes");
        const kubeConfig = defaultKubeConfig();
        const namespace = config.KUBERNETES_NAMESPACE ?? (await defaultNamespace(kubeConfig));
        return kubernetesTarget({ kubeConfig, namespace, hpaName: config.KUBERNETES_HPA_NAME });
      }
    }
  } catch (error) {
    const reason = `scaling target ${config.SCALING_TARGET} could not be set up: ${(error as Error).message}`;
    return {
      kind: config.SCALING_TARGET,
      observe: () => Promise.reject(new Error(reason)),
      apply: async () => ({ outcome: "failed", scaleChange: 0, detail: reason }),
    };
  }
}
