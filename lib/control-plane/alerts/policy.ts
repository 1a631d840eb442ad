// The instance-count rule compares against the active scaling policy's minimum. Policies are
// validated by the scaling module; this reads only the one field it needs, tolerantly, so an
// alert never fails on a policy shape it does not know.
import { z } from "zod";

/** The scaling guide's balanced preset minimum, used while no policy is active. */
export const DEFAULT_MIN_REPLICAS = 3;

const withMinimum = z.object({ minReplicas: z.number().int().min(0) });

export function policyMinReplicas(spec: unknown): number {
  const parsed = withMinimum.safeParse(spec);
  return parsed.success ? parsed.data.minReplicas : DEFAULT_MIN_REPLICAS;
}

/** SCALING_TARGET: who, if anyone, carries the scaling decision out. */
export type ScalingTargetKind = "none" | "local" | "kubernetes";

/**
 * The severity an alert is raised with. "Below the policy minimum" is critical only where the
 * scaling target can add instances (kubernetes, local): with SCALING_TARGET=none nothing here
 * acts on it, and a healthy single-instance install must not open on a critical alert.
 */
export function severityInForce(
  metric: string,
  severity: string,
  target: ScalingTargetKind,
): { severity: string; reason: string | null } {
  if (metric !== "instance_count" || target !== "none" || severity !== "critical") return { severity, reason: null };
  return {
    severity: "warning",
    reason: "Critical only when the scaling target can add instances (SCALING_TARGET kubernetes or local); it is none here.",
  };
}
