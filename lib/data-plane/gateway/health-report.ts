// What each instance's heartbeat says about its deployments (vitals.deployments), so the console
// can show the fleet's provider health: the router's state lives in each process's memory, and the
// instance registry is the one place every instance already writes every few seconds.
// Counters are totals since the instance started; the console adds them up across instances.
import { z } from "zod";
import type { Router } from "./router";

const deploymentReportSchema = z.object({
  circuit: z.enum(["closed", "half_open", "open"]),
  attempts: z.number().nonnegative(),
  failures: z.number().nonnegative(),
  refused_by_circuit: z.number().nonnegative(),
  answered: z.number().nonnegative(),
  answered_ms: z.number().nonnegative(),
  /** The reason (a fixed word such as server_error or auth_rejected), the upstream's status, epoch ms. Never an upstream's text. */
  last_failure: z.object({ reason: z.string(), status: z.number().nullable(), at: z.number() }).nullable(),
});
export type DeploymentReport = z.infer<typeof deploymentReportSchema>;

/** Keyed by deployment id. */
export const deploymentReportsSchema = z.record(z.string(), deploymentReportSchema);
export type DeploymentReports = z.infer<typeof deploymentReportsSchema>;

export function reportDeployments(router: Router): DeploymentReports {
  const reports: DeploymentReports = {};
  for (const { id, health, counters } of router.deploymentReports()) {
    reports[id] = {
      circuit: health.state,
      attempts: counters.attempts,
      failures: counters.failures,
      refused_by_circuit: counters.refusedByCircuit,
      answered: counters.answered,
      answered_ms: Math.round(counters.answeredMs * 1000) / 1000,
      last_failure: counters.lastFailure,
    };
  }
  return reports;
}
