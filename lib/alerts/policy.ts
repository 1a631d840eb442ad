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
