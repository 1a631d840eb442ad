// Who this instance is and what the fleet expects of it, for PromQL to join and compare against:
// Prometheus names targets host:port, the registry and the snapshots name instances by
// INSTANCE_ID, and the instance-count alert needs the active policy's minimum.
import client from "prom-client";
import { metric, registry, scrapedGauge } from "./registry";

const instanceInfo = metric(
  "agenticorp_instance_info",
  () =>
    new client.Gauge({
      name: "agenticorp_instance_info",
      help: "Always 1; its labels name this instance as the registry does (instance_id) and its version.",
      labelNames: ["instance_id", "version"] as const,
      registers: [registry],
    }),
);

export function reportInstanceIdentity(instanceId: string, version: string): void {
  instanceInfo.reset();
  instanceInfo.set({ instance_id: instanceId, version }, 1);
}

/** Names where the active policy's minimum is read from (lib/control-plane/alerts/policy.ts knows the default). */
export const reportPolicyMinReplicasFrom = scrapedGauge(
  "agenticorp_scaling_policy_min_replicas",
  "The active scaling policy's minimum instance count as this instance knows it (the balanced preset's while no policy is active).",
);
