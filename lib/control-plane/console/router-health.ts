// The fleet's deployment health, merged from every live instance's heartbeat report (see
// lib/data-plane/gateway/health-report.ts). Counters add up across instances; the circuit shown is the worst
// any instance has (an open circuit anywhere refuses that instance's traffic), with how many
// instances have it open; the last failure is the newest any instance saw. A restarted instance
// starts its counters again, and a dead one's report is left out: the totals cover the live fleet
// since each instance started.
import "server-only";
import type { PrismaClient } from "../../platform/db/generated/client";
import { deploymentReportsSchema, type DeploymentReport } from "../../data-plane/gateway/health-report";
import type { DeploymentHealthDto } from "./contracts";

const SEVERITY = { closed: 0, half_open: 1, open: 2 } as const;

export interface DeploymentRow {
  id: string;
  modelName: string;
  upstreamModel: string;
  enabled: boolean;
  provider: { id: string; name: string; enabled: boolean };
}

export interface InstanceReportRow {
  id: string;
  vitals: unknown;
}

/** Each instance's reports, keyed by deployment id; a report that does not parse (an older version's) counts as none. */
function reportsOf(instance: InstanceReportRow): Record<string, DeploymentReport> {
  const parsed = deploymentReportsSchema.safeParse((instance.vitals as { deployments?: unknown } | null)?.deployments);
  return parsed.success ? parsed.data : {};
}

function mergeDeploymentHealth(deployments: DeploymentRow[], instances: InstanceReportRow[]): DeploymentHealthDto[] {
  const reports = instances.map((instance) => ({ id: instance.id, byDeployment: reportsOf(instance) }));
  return deployments.map((d) => {
    let circuit: DeploymentHealthDto["circuit"] = "closed";
    let openOn = 0;
    let attempts = 0;
    let failures = 0;
    let refusedByCircuit = 0;
    let answered = 0;
    let answeredMs = 0;
    let lastFailure: DeploymentHealthDto["lastFailure"] = null;
    let lastFailureAt = 0;
    for (const instance of reports) {
      const report = instance.byDeployment[d.id];
      if (!report) continue;
      if (SEVERITY[report.circuit] > SEVERITY[circuit]) circuit = report.circuit;
      if (report.circuit === "open") openOn++;
      attempts += report.attempts;
      failures += report.failures;
      refusedByCircuit += report.refused_by_circuit;
      answered += report.answered;
      answeredMs += report.answered_ms;
      if (report.last_failure && report.last_failure.at > lastFailureAt) {
        lastFailureAt = report.last_failure.at;
        const { reason, status } = report.last_failure;
        lastFailure = { reason, status, at: new Date(lastFailureAt).toISOString(), instanceId: instance.id };
      }
    }
    return {
      deploymentId: d.id,
      modelName: d.modelName,
      providerId: d.provider.id,
      providerName: d.provider.name,
      upstreamModel: d.upstreamModel,
      enabled: d.enabled && d.provider.enabled,
      circuit,
      openOn,
      attempts,
      failures,
      errorRate: attempts > 0 ? failures / attempts : null,
      refusedByCircuit,
      meanLatencyMs: answered > 0 ? answeredMs / answered : null,
      lastFailure,
    };
  });
}

/** Every deployment with the live fleet's merged health, and which instances reported. */
export async function readFleetDeploymentHealth(
  prisma: PrismaClient,
): Promise<{ instances: string[]; deployments: DeploymentHealthDto[] }> {
  const [deployments, instances] = await Promise.all([
    prisma.deployment.findMany({
      select: {
        id: true,
        modelName: true,
        upstreamModel: true,
        enabled: true,
        provider: { select: { id: true, name: true, enabled: true } },
      },
      orderBy: [{ modelName: "asc" }, { upstreamModel: "asc" }],
    }),
    prisma.instance.findMany({
      where: { status: { in: ["healthy", "draining"] } },
      select: { id: true, vitals: true },
      orderBy: { id: "asc" },
    }),
  ]);
  return { instances: instances.map((i) => i.id), deployments: mergeDeploymentHealth(deployments, instances) };
}
