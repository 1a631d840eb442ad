// Scaling policies as data: the scaling guide's three presets, the schema every policy (preset or
// custom) must satisfy, and their translation into what the HorizontalPodAutoscaler understands.
//
// "Scale up at 70% CPU, scale down at 30%" as one HPA. An HPA has one target per metric and moves
// the replica count towards it whenever the usage ratio (current ÷ target) leaves a tolerance band
// around 1. The policy becomes exactly that band:
//   - the metric target is the scale-up threshold (averageUtilization: 70);
//   - behavior.scaleUp.tolerance = 0: any average above 70% scales up;
//   - behavior.scaleDown.tolerance just under 1 − 30/70 (0.5714: the largest 4-place decimal
//     below it): the ratio must fall below 0.4286, i.e. the average (a whole percent to the HPA)
//     to 30% or below, before the HPA scales down — and then it sizes the fleet back towards 70%,
//     limited by the scale-down policies and window.
// The leader's own decision (lib/control-plane/scaling/decider.ts) runs the same algorithm with the same
// tolerances, so what the console recommends is what Kubernetes does. Per-direction tolerances
// are autoscaling/v2 fields since Kubernetes 1.33 (HPAConfigurableTolerance; on by default from
// 1.35). An older API server drops them: its HPA then scales down below 63% (target − 10%) and up
// above 77%; the kubernetes target detects that and says so.
// The band is a ratio, so it applies to every metric of the policy: with a memory or requests-per-
// instance target too, the fleet shrinks only when each is below 30/70 of its own target.
import { z } from "zod";
import type { HpaBehavior, HpaScalingRules, HpaSpec, MetricSpec } from "./hpa";

export const PRESET_NAMES = ["aggressive", "balanced", "conservative"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
export const DEFAULT_POLICY: PresetName = "balanced";

const int = (min: number, max: number, what: string) =>
  z
    .number({ message: `${what} must be a number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be at least ${min}` })
    .max(max, { message: `${what} must be at most ${max}` });

const scalingRatePolicySchema = z.object({
  type: z.enum(["Pods", "Percent"], { message: 'type must be "Pods" or "Percent"' }),
  value: int(1, 1_000, "value"),
  periodSeconds: int(1, 1_800, "periodSeconds"),
});

const scalingRulesSchema = z.object({
  stabilizationWindowSeconds: int(0, 3_600, "stabilizationWindowSeconds"),
  selectPolicy: z.enum(["Max", "Min", "Disabled"], { message: 'selectPolicy must be "Max", "Min" or "Disabled"' }).default("Max"),
  policies: z
    .array(scalingRatePolicySchema)
    .min(1, { message: "at least one rate policy is needed" })
    .max(10, { message: "at most 10 rate policies" }),
});

export const policySpecSchema = z
  .object({
    description: z.string().trim().max(500).optional(),
    minReplicas: int(1, 1_000, "minReplicas"),
    maxReplicas: int(1, 1_000, "maxReplicas"),
    /** Percent of each instance's CPU request. */
    cpu: z.object({
      scaleUpAtPercent: int(1, 1_000, "scaleUpAtPercent"),
      scaleDownAtPercent: int(0, 1_000, "scaleDownAtPercent"),
    }),
    /** Percent of each instance's memory request, as a second HPA target. */
    memory: z.object({ targetPercent: int(1, 1_000, "targetPercent") }).optional(),
    /** Completion requests per second per instance, as a third (Pods) target. */
    requestsPerSecondPerInstance: z
      .number()
      .positive({ message: "requestsPerSecondPerInstance must be above 0" })
      .max(1_000_000)
      .optional(),
    /**
     * Queued batch jobs per instance, as an External (fleet-wide) AverageValue target: the fleet is
     * sized to ceil(queued ÷ target). Null or absent: batch queue depth does not scale the fleet.
     */
    queueDepthTarget: z.number().positive({ message: "queueDepthTarget must be above 0" }).max(100_000_000).nullable().optional(),
    behavior: z.object({ scaleUp: scalingRulesSchema, scaleDown: scalingRulesSchema }),
  })
  .superRefine((spec, ctx) => {
    if (spec.minReplicas > spec.maxReplicas) {
      ctx.addIssue({
        code: "custom",
        path: ["maxReplicas"],
        message: `maxReplicas (${spec.maxReplicas}) must be at least minReplicas (${spec.minReplicas})`,
      });
    }
    if (spec.cpu.scaleDownAtPercent >= spec.cpu.scaleUpAtPercent) {
      ctx.addIssue({
        code: "custom",
        path: ["cpu", "scaleDownAtPercent"],
        message: `scaleDownAtPercent (${spec.cpu.scaleDownAtPercent}) must be below scaleUpAtPercent (${spec.cpu.scaleUpAtPercent})`,
      });
    }
  });

export type PolicySpec = z.infer<typeof policySpecSchema>;
/** What a caller may send: selectPolicy may be left out. */
export type PolicySpecInput = z.input<typeof policySpecSchema>;

export const policyNameSchema = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
    message: "must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit",
  });

/** A custom policy as an admin saves it. */
export const savePolicyInput = z.object({ name: policyNameSchema, spec: policySpecSchema });
export type SavePolicyInput = z.input<typeof savePolicyInput>;

const rules = (stabilizationWindowSeconds: number, policies: HpaScalingRules["policies"]): PolicySpec["behavior"]["scaleUp"] => ({
  stabilizationWindowSeconds,
  selectPolicy: "Max",
  policies,
});

/**
 * The guide's presets. Balanced carries the guide's HPA behaviour exactly; aggressive reacts
 * sooner and harder going up and lets go of capacity more slowly (fast but expensive);
 * conservative is the opposite (slow but cheap).
 */
export const PRESETS: Record<PresetName, PolicySpec> = {
  aggressive: {
    description:
      "Fast but expensive: scales up at 60% CPU with no delay, doubling (or +4 instances) per 30 s; scales down at 30% after 10 minutes, one instance per 2 minutes.",
    minReplicas: 3,
    maxReplicas: 20,
    cpu: { scaleUpAtPercent: 60, scaleDownAtPercent: 30 },
    behavior: {
      scaleUp: rules(0, [
        { type: "Percent", value: 100, periodSeconds: 30 },
        { type: "Pods", value: 4, periodSeconds: 30 },
      ]),
      scaleDown: rules(600, [{ type: "Pods", value: 1, periodSeconds: 120 }]),
    },
  },
  balanced: {
    description:
      "Recommended: scales up at 70% CPU after 60 s, +50% per minute; scales down at 30% after 5 minutes, 10% per minute (the guide's HPA).",
    minReplicas: 3,
    maxReplicas: 15,
    cpu: { scaleUpAtPercent: 70, scaleDownAtPercent: 30 },
    behavior: {
      scaleUp: rules(60, [{ type: "Percent", value: 50, periodSeconds: 60 }]),
      scaleDown: rules(300, [{ type: "Percent", value: 10, periodSeconds: 60 }]),
    },
  },
  conservative: {
    description:
      "Slow but cheap: scales up at 80% CPU after 2 minutes, +25% per minute; scales down at 20% after 2 minutes, 20% per minute.",
    minReplicas: 2,
    maxReplicas: 10,
    cpu: { scaleUpAtPercent: 80, scaleDownAtPercent: 20 },
    behavior: {
      scaleUp: rules(120, [{ type: "Percent", value: 25, periodSeconds: 60 }]),
      scaleDown: rules(120, [{ type: "Percent", value: 20, periodSeconds: 60 }]),
    },
  },
};

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/** Validates a stored or submitted spec; the error message names the first offending field. */
export function parsePolicySpec(value: unknown): { ok: true; spec: PolicySpec } | { ok: false; error: string } {
  const result = policySpecSchema.safeParse(value);
  if (result.success) return { ok: true, spec: result.data };
  const issue = result.error.issues[0]!;
  const field = issue.path.join(".");
  return { ok: false, error: field ? `${field}: ${issue.message}` : issue.message };
}

/**
 * behavior.scaleDown.tolerance: the largest 4-place decimal below 1 − down ÷ up, so that the HPA
 * (which compares whole percents) scales down at `down`% and not at `down + 1`% (see the header).
 */
export function scaleDownTolerance(spec: Pick<PolicySpec, "cpu">): number {
  const tenThousandths = Math.round((1 - spec.cpu.scaleDownAtPercent / spec.cpu.scaleUpAtPercent) * 1e8) / 1e4;
  return (Math.ceil(tenThousandths) - 1) / 10_000;
}

/** The policy's behaviour with its per-direction tolerances, as the HPA takes it. */
export function hpaBehavior(spec: PolicySpec): HpaBehavior {
  return {
    scaleUp: { ...spec.behavior.scaleUp, tolerance: 0 },
    scaleDown: { ...spec.behavior.scaleDown, tolerance: scaleDownTolerance(spec) },
  };
}

export function toHpaSpec(spec: PolicySpec): HpaSpec {
  return { minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, behavior: hpaBehavior(spec) };
}

export const METRIC_NAMES = { cpu: "cpu", memory: "memory", rps: "requests_per_second", queue: "batch_queue_depth" } as const;

/** The policy's queue-depth target (jobs per instance), or null when queue depth does not scale the fleet. */
export function queueDepthTarget(spec: Pick<PolicySpec, "queueDepthTarget">): number | null {
  return spec.queueDepthTarget ?? null;
}

/** The HPA's metrics for this policy, in the units the decider samples them in. */
export function metricSpecs(spec: PolicySpec): MetricSpec[] {
  const metrics: MetricSpec[] = [{ name: METRIC_NAMES.cpu, type: "Utilization", target: spec.cpu.scaleUpAtPercent, isCpu: true }];
  if (spec.memory)
    metrics.push({ name: METRIC_NAMES.memory, type: "Utilization", target: spec.memory.targetPercent, isCpu: false });
  if (spec.requestsPerSecondPerInstance !== undefined) {
    metrics.push({ name: METRIC_NAMES.rps, type: "AverageValue", target: spec.requestsPerSecondPerInstance, isCpu: false });
  }
  const queue = queueDepthTarget(spec);
  if (queue !== null) metrics.push({ name: METRIC_NAMES.queue, type: "ExternalAverageValue", target: queue, isCpu: false });
  return metrics;
}

export interface PolicyDifference {
  field: string;
  before: string;
  after: string;
}

function rulesText(r: PolicySpec["behavior"]["scaleUp"]): string {
  const policies = r.policies
    .map(
      (p) => (p.type === "Pods" ? `${p.value} instance${p.value === 1 ? "" : "s"}` : `${p.value}%`) + ` per ${p.periodSeconds} s`,
    )
    .join(r.selectPolicy === "Min" ? " or (the smaller) " : " or ");
  return r.selectPolicy === "Disabled" ? "disabled" : `window ${r.stabilizationWindowSeconds} s, ${policies}`;
}

/** The fields an admin sees side by side before switching from one policy to another. */
export function policyFields(spec: PolicySpec): Array<[string, string]> {
  return [
    ["Instances", `${spec.minReplicas}–${spec.maxReplicas}`],
    ["Scale up at", `${spec.cpu.scaleUpAtPercent}% CPU`],
    ["Scale down at", `${spec.cpu.scaleDownAtPercent}% CPU`],
    ["Memory target", spec.memory ? `${spec.memory.targetPercent}%` : "none"],
    [
      "Requests per instance",
      spec.requestsPerSecondPerInstance !== undefined ? `${spec.requestsPerSecondPerInstance}/s` : "none",
    ],
    ["Queued batch jobs per instance", queueDepthTarget(spec) !== null ? String(queueDepthTarget(spec)) : "none"],
    ["Scale-up behaviour", rulesText(spec.behavior.scaleUp)],
    ["Scale-down behaviour", rulesText(spec.behavior.scaleDown)],
  ];
}

/** What changes when `after` replaces `before` (every field when there is no `before`). */
export function diffPolicies(before: PolicySpec | null, after: PolicySpec): PolicyDifference[] {
  const old = new Map(before ? policyFields(before) : []);
  return policyFields(after)
    .filter(([field, value]) => old.get(field) !== value)
    .map(([field, value]) => ({ field, before: old.get(field) ?? "—", after: value }));
}
