// The Kubernetes HorizontalPodAutoscaler's decision, computed the way the HPA controller computes
// it (pkg/controller/podautoscaler: replica_calculator.go and horizontal.go), so that what the
// console recommends and what the `local` target does match what Kubernetes would do:
//
//  1. Per metric: ratio = current ÷ target over the ready pods with metrics; within the tolerance
//     (0.1 each way, or the per-direction `tolerance` of the behaviour's rules) of 1 nothing
//     changes. The current value is an integer as the controller sees it: a utilisation in whole
//     percent (GetResourceUtilizationRatio truncates), a per-pod average in whole milli-units
//     (GetMetricUsageRatio divides int64 milli-values). Pods without metrics count as 100% of target when scaling
//     down and 0% when scaling up; not-yet-ready pods count as 0% when scaling up (CPU only). If
//     that reverses the direction or lands within the tolerance, nothing changes.
//  2. The largest proposal across metrics wins; if any metric has no data and the others would
//     scale down, nothing changes (computeReplicasForMetrics), and no recommendation is recorded.
//  3. Stabilization: a scale-up is limited to the lowest recommendation in the scale-up window, a
//     scale-down to the highest recommendation in the scale-down window.
//  4. Rate policies: per direction, each policy proposes a limit from the replica count at the
//     start of its period (Pods: ± value; Percent: up rounds up, down truncates); selectPolicy
//     Max takes the largest change, Min the smallest, Disabled none. Then min/max replicas.

export type ScalingPolicyType = "Pods" | "Percent";
export type SelectPolicy = "Max" | "Min" | "Disabled";

export interface HpaScalingPolicy {
  type: ScalingPolicyType;
  value: number;
  periodSeconds: number;
}

export interface HpaScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: SelectPolicy;
  policies: HpaScalingPolicy[];
  /**
   * This direction's tolerance on the usage ratio (autoscaling/v2 `behavior.*.tolerance`,
   * Kubernetes ≥ 1.33 behind HPAConfigurableTolerance, on by default from 1.35). Unset: the
   * HPA's cluster-wide tolerance.
   */
  tolerance?: number;
}

export interface HpaBehavior {
  scaleUp: HpaScalingRules;
  scaleDown: HpaScalingRules;
}

const DEFAULT_TOLERANCE = 0.1;

/** How far below (scaleDown) and above (scaleUp) 1 the usage ratio may be without a change. */
export interface Tolerances {
  scaleDown: number;
  scaleUp: number;
}

function tolerancesOf(tolerance: number | Tolerances): Tolerances {
  return typeof tolerance === "number" ? { scaleDown: tolerance, scaleUp: tolerance } : tolerance;
}

/** replica_calculator.go Tolerances.isWithin. */
function isWithin(ratio: number, t: Tolerances): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}

/**
 * The average as the controller holds it: whole percent for utilisation, whole milli-units for a
 * per-pod value. The epsilon keeps a float that prints as 84 (83.99999999999999) at 84.
 */
function controllerAverage(values: number[], type: MetricSpec["type"]): number {
  const mean = average(values);
  return type === "Utilization" ? Math.trunc(mean + 1e-9) : Math.trunc(mean * 1000 + 1e-6) / 1000;
}

/** One pod's sample for a metric; `value` null when the pod has no metric yet. */
export interface PodSample {
  name: string;
  ready: boolean;
  value: number | null;
}

export interface MetricSpec {
  name: string;
  /**
   * Utilization: percent of the pod's request (CPU, memory). AverageValue: per-pod value (req/s).
   * ExternalAverageValue: an External metric (one fleet-wide value, such as queued batch jobs)
   * with an AverageValue target: its samples are the metric's series, summed, not pods.
   */
  type: "Utilization" | "AverageValue" | "ExternalAverageValue";
  /** The target per pod, in the samples' unit (e.g. 70 for 70% CPU, 100 for 100 req/s). */
  target: number;
  /** Kubernetes treats a ready-but-initialising pod as not ready for CPU only. */
  isCpu: boolean;
}

export interface MetricProposal {
  metric: string;
  replicas: number;
  /** Average over the pods that had metrics (before any assumption about the others). */
  currentAverage: number | null;
  target: number;
  ratio: number | null;
  /** An External metric's fleet-wide value (the sum of its series), which the average divides. */
  total?: number;
}

/**
 * replica_calculator.go GetExternalPerPodMetricReplicas: an External metric with an AverageValue
 * target. usage = the sum of the metric's series (in milli-units, as the controller reads them);
 * ratio = usage ÷ (target × current replicas); outside the tolerance the count is ceil(usage ÷ target).
 * Which pods are ready plays no part. The average it reports is usage per current replica.
 */
function replicasForExternalMetric(
  currentReplicas: number,
  samples: PodSample[],
  spec: MetricSpec,
  tolerance: number | Tolerances = DEFAULT_TOLERANCE,
): MetricProposal {
  const t = tolerancesOf(tolerance);
  const values = samples.filter((s) => s.value !== null).map((s) => Math.round(s.value! * 1000));
  if (values.length === 0 || currentReplicas === 0)
    return { metric: spec.name, replicas: currentReplicas, currentAverage: null, target: spec.target, ratio: null };
  const usageMilli = values.reduce((sum, v) => sum + v, 0);
  const targetMilli = Math.round(spec.target * 1000);
  const ratio = usageMilli / (targetMilli * currentReplicas);
  const currentAverage = Math.ceil(usageMilli / currentReplicas) / 1000;
  const replicas = isWithin(ratio, t) ? currentReplicas : Math.ceil(usageMilli / targetMilli);
  return { metric: spec.name, replicas, currentAverage, target: spec.target, ratio, total: usageMilli / 1000 };
}

/** replica_calculator.go: the proposal for one metric. */
export function replicasForMetric(
  currentReplicas: number,
  samples: PodSample[],
  spec: MetricSpec,
  tolerance: number | Tolerances = DEFAULT_TOLERANCE,
): MetricProposal {
  if (spec.type === "ExternalAverageValue") return replicasForExternalMetric(currentReplicas, samples, spec, tolerance);
  const t = tolerancesOf(tolerance);
  // groupPods: a pod not ready and without metrics is pending (unready for every metric); one
  // without metrics is missing; for CPU a pod with metrics that is not ready yet is unready.
  const unready = samples.filter((s) => !s.ready && (s.value === null || spec.isCpu));
  const missing = samples.filter((s) => s.ready && s.value === null);
  const counted = samples.filter((s) => s.value !== null && !unready.includes(s));
  const proposal = (replicas: number, ratio: number | null): MetricProposal => ({
    metric: spec.name,
    replicas,
    currentAverage: counted.length
      ? controllerAverage(
          counted.map((s) => s.value!),
          spec.type,
        )
      : null,
    target: spec.target,
    ratio,
  });
  if (counted.length === 0) return proposal(currentReplicas, null);

  const usageRatio =
    controllerAverage(
      counted.map((s) => s.value!),
      spec.type,
    ) / spec.target;
  const scaleUpWithUnready = unready.length > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && missing.length === 0) {
    if (isWithin(usageRatio, t)) return proposal(currentReplicas, usageRatio);
    return proposal(Math.ceil(usageRatio * counted.length), usageRatio);
  }

  const values = counted.map((s) => s.value!);
  if (missing.length > 0) {
    // Scaling down, a pod without metrics might be busy: assume the target (or 100%, whichever
    // is larger). Scaling up, assume it is idle. At exactly 1 a resource metric leaves missing
    // pods out, a per-pod metric counts them idle (GetResourceReplicas vs calcPlainMetricReplicas).
    const fallback = usageRatio < 1 ? (spec.type === "Utilization" ? Math.max(100, spec.target) : spec.target) : 0;
    if (usageRatio !== 1 || spec.type !== "Utilization") values.push(...missing.map(() => fallback));
  }
  if (scaleUpWithUnready) values.push(...unready.map(() => 0));
  const newRatio = controllerAverage(values, spec.type) / spec.target;
  if (isWithin(newRatio, t) || (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1)) {
    return proposal(currentReplicas, newRatio);
  }
  const replicas = Math.ceil(newRatio * values.length);
  if ((newRatio < 1 && replicas > currentReplicas) || (newRatio > 1 && replicas < currentReplicas))
    return proposal(currentReplicas, newRatio);
  return proposal(replicas, newRatio);
}

export interface HpaSpec {
  minReplicas: number;
  maxReplicas: number;
  behavior: HpaBehavior;
  tolerance?: number;
}

export type DecisionReason =
  | "ScalingDisabled"
  | "AboveMax"
  | "BelowMin"
  | "NoMetrics"
  | "MetricsIncomplete"
  | "WithinTolerance"
  | "ScaleUpStabilized"
  | "ScaleDownStabilized"
  | "ScaleUpLimit"
  | "ScaleDownLimit"
  | "TooManyReplicas"
  | "TooFewReplicas"
  | "DesiredWithinRange";

export interface Decision {
  currentReplicas: number;
  desiredReplicas: number;
  /** What the metrics asked for before stabilization and rate limits. */
  metricReplicas: number;
  proposals: MetricProposal[];
  reason: DecisionReason;
  /** The proposal that won (largest), if any. */
  driver?: MetricProposal;
}

export interface TimedValue {
  at: number;
  value: number;
}

/** What the controller remembers between decisions: it survives a change of leader when stored. */
export interface AutoscalerMemory {
  /** Unstabilized recommendations (metric replicas), for the stabilization windows. */
  recommendations: TimedValue[];
  /** Replicas added, for the scale-up and scale-down rate policies. */
  scaleUpEvents: TimedValue[];
  /** Replicas removed. */
  scaleDownEvents: TimedValue[];
}

export interface DecideOptions {
  /**
   * Record the decision's change as a scale event at once, as the controller does after it
   * updated the scale (default). False when the caller applies it later, or not at all
   * (recommend only): it then calls recordScale() once the change really happened.
   */
  recordScale?: boolean;
}

/**
 * One HPA's controller state: past recommendations (for stabilization) and past scale events
 * (for rate policies). `now` is in milliseconds; the caller owns the clock.
 */
export class HorizontalAutoscaler {
  private recommendations: TimedValue[] = [];
  private scaleUpEvents: TimedValue[] = [];
  private scaleDownEvents: TimedValue[] = [];

  constructor(
    public spec: HpaSpec,
    memory?: AutoscalerMemory,
  ) {
    if (memory) {
      this.recommendations = [...memory.recommendations];
      this.scaleUpEvents = [...memory.scaleUpEvents];
      this.scaleDownEvents = [...memory.scaleDownEvents];
    }
  }

  /** A copy of what the controller remembers (for a successor to start from). */
  memory(): AutoscalerMemory {
    return {
      recommendations: [...this.recommendations],
      scaleUpEvents: [...this.scaleUpEvents],
      scaleDownEvents: [...this.scaleDownEvents],
    };
  }

  decide(
    now: number,
    currentReplicas: number,
    metrics: Array<{ spec: MetricSpec; samples: PodSample[] }>,
    options: DecideOptions = {},
  ): Decision {
    const { minReplicas, maxReplicas, behavior } = this.spec;
    const global = this.spec.tolerance ?? DEFAULT_TOLERANCE;
    const tolerance: Tolerances = {
      scaleDown: behavior.scaleDown.tolerance ?? global,
      scaleUp: behavior.scaleUp.tolerance ?? global,
    };
    const record = options.recordScale ?? true;
    const base = { currentReplicas, proposals: [] as MetricProposal[] };
    if (currentReplicas === 0 && minReplicas !== 0)
      return { ...base, desiredReplicas: 0, metricReplicas: 0, reason: "ScalingDisabled" };
    if (currentReplicas > maxReplicas)
      return this.settle(now, { ...base, desiredReplicas: maxReplicas, metricReplicas: maxReplicas, reason: "AboveMax" }, record);
    if (currentReplicas < minReplicas)
      return this.settle(now, { ...base, desiredReplicas: minReplicas, metricReplicas: minReplicas, reason: "BelowMin" }, record);

    const proposals = metrics.map((m) => replicasForMetric(currentReplicas, m.samples, m.spec, tolerance));
    const usable = proposals.filter((p) => p.ratio !== null);
    if (usable.length === 0)
      return { ...base, proposals, desiredReplicas: currentReplicas, metricReplicas: currentReplicas, reason: "NoMetrics" };
    const driver = usable.reduce((best, p) => (p.replicas > best.replicas ? p : best));
    const metricReplicas = driver.replicas;
    // A metric without data might be the one that is busy: never scale down on the others alone.
    if (usable.length < proposals.length && metricReplicas < currentReplicas) {
      return { ...base, proposals, desiredReplicas: currentReplicas, metricReplicas, reason: "MetricsIncomplete", driver };
    }

    const stabilized = this.stabilize(now, currentReplicas, metricReplicas, behavior);
    let desired = stabilized;
    let reason: DecisionReason =
      stabilized !== metricReplicas
        ? metricReplicas > currentReplicas
          ? "ScaleUpStabilized"
          : "ScaleDownStabilized"
        : usable.every((p) => p.replicas === currentReplicas)
          ? "WithinTolerance"
          : "DesiredWithinRange";

    if (stabilized > currentReplicas) {
      const limit = Math.max(currentReplicas, this.scaleUpLimit(now, currentReplicas, behavior.scaleUp));
      const allowed = Math.min(maxReplicas, limit);
      if (stabilized > allowed) {
        desired = allowed;
        reason = maxReplicas > limit ? "ScaleUpLimit" : "TooManyReplicas";
      }
    } else if (stabilized < currentReplicas) {
      const limit = Math.min(currentReplicas, this.scaleDownLimit(now, currentReplicas, behavior.scaleDown));
      const allowed = Math.max(minReplicas, limit);
      if (stabilized < allowed) {
        desired = allowed;
        reason = minReplicas < limit ? "ScaleDownLimit" : "TooFewReplicas";
      }
    }
    return this.settle(now, { ...base, proposals, desiredReplicas: desired, metricReplicas, reason, driver }, record);
  }

  /** Remembers a change of scale that happened at `now` (storeScaleEvent), for the rate policies. */
  recordScale(now: number, fromReplicas: number, toReplicas: number): void {
    const change = toReplicas - fromReplicas;
    if (change > 0) this.scaleUpEvents.push({ at: now, value: change });
    if (change < 0) this.scaleDownEvents.push({ at: now, value: -change });
    this.forgetOld(now);
  }

  private settle(now: number, decision: Decision, record: boolean): Decision {
    if (record) this.recordScale(now, decision.currentReplicas, decision.desiredReplicas);
    else this.forgetOld(now);
    return decision;
  }

  /** horizontal.go stabilizeRecommendationWithBehaviors. */
  private stabilize(now: number, current: number, desired: number, behavior: HpaBehavior): number {
    const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
    const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
    let up = desired;
    let down = desired;
    for (const rec of this.recommendations) {
      if (rec.at > upCutoff) up = Math.min(up, rec.value);
      if (rec.at > downCutoff) down = Math.max(down, rec.value);
    }
    this.recommendations.push({ at: now, value: desired });
    return Math.min(Math.max(current, up), down);
  }

  private changeWithin(events: TimedValue[], now: number, periodSeconds: number): number {
    const cutoff = now - periodSeconds * 1000;
    return events.filter((e) => e.at > cutoff).reduce((sum, e) => sum + e.value, 0);
  }

  private scaleUpLimit(now: number, current: number, rules: HpaScalingRules): number {
    if (rules.selectPolicy === "Disabled") return current;
    const proposals = rules.policies.map((policy) => {
      const start =
        current -
        this.changeWithin(this.scaleUpEvents, now, policy.periodSeconds) +
        this.changeWithin(this.scaleDownEvents, now, policy.periodSeconds);
      return policy.type === "Pods" ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
    });
    return rules.selectPolicy === "Min" ? Math.min(...proposals) : Math.max(...proposals);
  }

  private scaleDownLimit(now: number, current: number, rules: HpaScalingRules): number {
    if (rules.selectPolicy === "Disabled") return current;
    const proposals = rules.policies.map((policy) => {
      const start =
        current -
        this.changeWithin(this.scaleUpEvents, now, policy.periodSeconds) +
        this.changeWithin(this.scaleDownEvents, now, policy.periodSeconds);
      return policy.type === "Pods" ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
    });
    // For scaling down, the smallest change is the largest replica count.
    return rules.selectPolicy === "Min" ? Math.max(...proposals) : Math.min(...proposals);
  }

  private forgetOld(now: number): void {
    const { scaleUp, scaleDown } = this.spec.behavior;
    const longest = Math.max(
      scaleUp.stabilizationWindowSeconds,
      scaleDown.stabilizationWindowSeconds,
      ...[...scaleUp.policies, ...scaleDown.policies].map((p) => p.periodSeconds),
    );
    const cutoff = now - longest * 1000 - 1;
    this.recommendations = this.recommendations.filter((r) => r.at > cutoff);
    this.scaleUpEvents = this.scaleUpEvents.filter((e) => e.at > cutoff);
    this.scaleDownEvents = this.scaleDownEvents.filter((e) => e.at > cutoff);
  }
}

function average(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
