// The local demonstration of queue-depth scaling: a policy that sizes the fleet on queued batch
// jobs alone (1 to N instances, quick to react), saved and made active in the cluster's database.
// CPU's thresholds sit far above anything a one-machine cluster reaches, so what moves the fleet
// here is the queue (CPU on a shared laptop is noise; the algorithm is the same either way).
import { createDatabase } from "../../lib/platform/db/client";
import { applyMigrations } from "../../lib/platform/db/migrate";
import { ensureDatabase } from "./database";
import type { PolicySpec } from "../../lib/control-plane/scaling/policies";
import { activatePolicy, savePolicy, seedPolicies } from "../../lib/control-plane/scaling/store";

export const QUEUE_DEPTH_POLICY_NAME = "queue-depth-demo";

export function queueDepthPolicy(jobsPerInstance: number, maxReplicas: number): PolicySpec {
  return {
    description: `Local demo: 1–${maxReplicas} instances on queued batch jobs (${jobsPerInstance} per instance); CPU thresholds out of reach.`,
    minReplicas: 1,
    maxReplicas,
    cpu: { scaleUpAtPercent: 400, scaleDownAtPercent: 300 },
    queueDepthTarget: jobsPerInstance,
    behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 2, periodSeconds: 10 }] },
      scaleDown: {
        stabilizationWindowSeconds: 30,
        selectPolicy: "Max",
        policies: [{ type: "Pods", value: 1, periodSeconds: 10 }],
      },
    },
  };
}

/**
 * Saves the demo policy and makes it the active one (audited as the cluster runner). Run it before
 * the instances start (it creates and migrates the database as they would): otherwise the first
 * leader decides under the default preset, whose minimum of 3 starts instances the demo never asked for.
 */
export async function activateQueueDepthPolicy(databaseUrl: string, spec: PolicySpec): Promise<void> {
  await ensureDatabase(databaseUrl);
  const db = createDatabase({ url: databaseUrl, poolMax: 2 });
  const actor = { id: null, email: "cluster-runner" };
  try {
    await applyMigrations(db.pool);
    await seedPolicies(db.prisma);
    await savePolicy(db.prisma, { name: QUEUE_DEPTH_POLICY_NAME, spec }, actor);
    await activatePolicy(db.prisma, QUEUE_DEPTH_POLICY_NAME, actor, "npm run cluster -- --autoscale --queue-depth");
  } finally {
    await db.close();
  }
}
