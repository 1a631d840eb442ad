// Deployment health as this process's router knows it. The router lives on the gateway side of
// the process; what it reports reaches the shared prom-client registry (on globalThis), which is
// the one place the console bundle can read it from.
import type { DeploymentHealthDto } from "./contracts";
import { registry } from "../metrics/registry";

const CIRCUIT = ["closed", "half_open", "open"] as const;

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

async function values(name: string): Promise<MetricValue[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as MetricValue[];
}

export interface DeploymentRow {
  id: string;
  modelName: string;
  upstreamModel: string;
  provider: { id: string; name: string };
}

export async function readDeploymentHealth(deployments: DeploymentRow[]): Promise<DeploymentHealthDto[]> {
  const [circuits, durations, retries, lastFailures] = await Promise.all([
    values("agenticorp_circuit_state"),
    values("agenticorp_upstream_duration_seconds"),
    values("agenticorp_upstream_retries_total"),
    values("agenticorp_upstream_last_failure_timestamp_seconds"),
  ]);
  const circuitByLabel = new Map(circuits.map((v) => [String(v.labels.deployment), v.value]));
  const count = new Map<string, number>();
  const sum = new Map<string, number>();
  for (const v of durations) {
    const provider = String(v.labels.provider);
    if (v.metricName?.endsWith("_count")) count.set(provider, v.value);
    else if (v.metricName?.endsWith("_sum")) sum.set(provider, v.value);
  }
  const retriesByProvider = new Map<string, number>();
  for (const v of retries) retriesByProvider.set(String(v.labels.provider), (retriesByProvider.get(String(v.labels.provider)) ?? 0) + v.value);

  // One timestamp per deployment and reason: the newest is the deployment's last failure.
  const lastFailureByLabel = new Map<string, { reason: string; seconds: number }>();
  for (const v of lastFailures) {
    const label = String(v.labels.deployment);
    if (v.value > (lastFailureByLabel.get(label)?.seconds ?? 0)) lastFailureByLabel.set(label, { reason: String(v.labels.reason), seconds: v.value });
  }

  return deployments.map((d) => {
    // The router labels a deployment "provider/upstream model" (lib/fleet/snapshot.ts).
    const label = `${d.provider.name}/${d.upstreamModel}`;
    const state = circuitByLabel.get(label) ?? 0;
    const lastFailure = lastFailureByLabel.get(label);
    const calls = count.get(d.provider.name) ?? 0;
    return {
      deploymentId: d.id,
      modelName: d.modelName,
      providerId: d.provider.id,
      providerName: d.provider.name,
      upstreamModel: d.upstreamModel,
      circuit: CIRCUIT[state] ?? "closed",
      upstreamCalls: calls,
      upstreamMeanSeconds: calls > 0 ? (sum.get(d.provider.name) ?? 0) / calls : null,
      retries: retriesByProvider.get(d.provider.name) ?? 0,
      lastFailure: lastFailure ? { reason: lastFailure.reason, at: new Date(lastFailure.seconds * 1000).toISOString() } : null,
    };
  });
}
