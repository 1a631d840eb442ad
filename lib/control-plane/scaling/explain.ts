// A decision in words, for the console and the decision history: "5 because average CPU 84% is
// above the 70% target". Pure: the decision, the policy, nothing else.
//
// Every sentence states where a metric's average really lies — above its target, at or below its
// scale-down level, or between — with numbers printed precisely enough to show it, and when that
// alone would not explain the count (the HPA rounds up, counts instances without metrics as busy
// and starting ones as idle), it says so instead of naming a band the number is not in.
import type { Decision, MetricProposal } from "./hpa";
import { METRIC_NAMES, scaleDownTolerance, type PolicySpec } from "./policies";

const LABELS: Record<string, string> = {
  [METRIC_NAMES.cpu]: "CPU",
  [METRIC_NAMES.memory]: "memory",
  [METRIC_NAMES.rps]: "requests per instance",
  [METRIC_NAMES.queue]: "queued batch jobs",
};

const labelOf = (metric: string) => LABELS[metric] ?? metric;

function unitValue(metric: string, value: number, decimals?: number): string {
  const unit = metric === METRIC_NAMES.rps ? "/s" : metric === METRIC_NAMES.queue ? "/instance" : "%";
  const places = decimals ?? (metric === METRIC_NAMES.rps ? (value < 10 ? 2 : 1) : 0);
  const rounded = Number(value.toFixed(places));
  // Queues run to thousands of jobs: group the digits (20,000/instance).
  return `${metric === METRIC_NAMES.queue ? rounded.toLocaleString("en-US", { maximumFractionDigits: places }) : rounded}${unit}`;
}

/** "average CPU 84%" */
function describeAverage(p: Pick<MetricProposal, "metric" | "currentAverage">): string {
  const label = labelOf(p.metric);
  return p.currentAverage === null ? `${label} (no data)` : `average ${label} ${unitValue(p.metric, p.currentAverage)}`;
}

/** Where an average lies against the policy's band: above the target, at or below the scale-down level, or between. */
export type Relation = "above" | "below" | "between";

interface Placement {
  relation: Relation;
  average: number;
  /** The level at or below which the metric lets the fleet shrink. */
  down: number;
  /** The target: above it the fleet grows. */
  up: number;
}

function place(p: MetricProposal, spec: PolicySpec): Placement | null {
  if (p.currentAverage === null) return null;
  const tolerance = scaleDownTolerance(spec);
  // CPU's level is the policy's own number; other metrics share its band as a ratio of their target.
  const down = p.metric === METRIC_NAMES.cpu ? spec.cpu.scaleDownAtPercent : p.target * (1 - tolerance);
  const average = p.currentAverage;
  // The HPA's own tests: up above the target (tolerance 0), down below 1 − tolerance of it.
  const relation: Relation = average > p.target ? "above" : average / p.target < 1 - tolerance ? "below" : "between";
  return { relation, average, down, up: p.target };
}

/** Printed numbers that keep the relation visible: 0.503/s is not "above the 0.5/s target". */
function printed(metric: string, { relation, average, down, up }: Placement): { average: string; down: string; up: string } {
  const holds = (d: number) => {
    const [a, lo, hi] = [average, down, up].map((v) => Number(v.toFixed(d)));
    return relation === "above" ? a! > hi! : relation === "below" ? a! <= lo! : a! > lo! && a! <= hi!;
  };
  const standard = metric === METRIC_NAMES.rps ? 2 : 0;
  const decimals = [standard, 1, 2, 3, 4, 5, 6].filter((d) => d >= standard).find(holds) ?? 6;
  return {
    average: unitValue(metric, average, decimals),
    down: unitValue(metric, down, decimals),
    up: unitValue(metric, up, decimals),
  };
}

/** "average CPU 84% is above the 70% target" — always true of the numbers it prints. */
function claim(p: MetricProposal, at: Placement): string {
  const shown = printed(p.metric, at);
  // Queue depth is one fleet-wide number: the count itself, then what it makes per instance.
  const subject =
    p.metric === METRIC_NAMES.queue && p.total !== undefined
      ? `${labelOf(p.metric)} ${p.total.toLocaleString("en-US")} (${shown.average})`
      : `average ${labelOf(p.metric)} ${shown.average}`;
  if (at.relation === "above") return `${subject} is above the ${shown.up} target`;
  if (at.relation === "below") return `${subject} is at or below the ${shown.down} scale-down threshold`;
  return `${subject} is between the ${shown.down} scale-down and ${shown.up} scale-up thresholds`;
}

const DIRECTION: Record<Relation, number> = { above: 1, between: 0, below: -1 };

/**
 * Why the metrics ask for `asked` instances: the deciding metric's place in its band, and, when
 * that place points another way than the count, what makes the count (as the HPA computes it).
 */
function because(decision: Decision, spec: PolicySpec): string {
  const { currentReplicas: current, metricReplicas: asked, proposals, driver } = decision;
  const direction = Math.sign(asked - current);
  // Metrics asking for the same count: prefer one whose place agrees with the direction, then CPU,
  // then the one closest to its target (the HPA names the first).
  const candidates = proposals
    .filter((p) => p.ratio !== null && p.replicas === asked)
    .map((p) => ({ p, at: place(p, spec) }))
    .filter((c): c is { p: MetricProposal; at: Placement } => c.at !== null)
    .sort(
      (a, b) =>
        Number(DIRECTION[b.at.relation] === direction) - Number(DIRECTION[a.at.relation] === direction) ||
        Number(b.p.metric === METRIC_NAMES.cpu) - Number(a.p.metric === METRIC_NAMES.cpu) ||
        b.p.ratio! - a.p.ratio!,
    );
  const chosen = candidates[0];
  if (!chosen) return driver ? describeAverage(driver) : "the metrics";
  const text = claim(chosen.p, chosen.at);
  if (DIRECTION[chosen.at.relation] === direction) return text;
  const counting =
    chosen.at.relation === "below"
      ? "it rounds up, and counts instances without metrics as busy"
      : chosen.at.relation === "above"
        ? "it counts starting instances as idle"
        : "it counts instances without metrics as busy or idle";
  return `${text}, but the HPA's count for it is ${asked} (${counting})`;
}

function rate(rules: PolicySpec["behavior"]["scaleUp"]): string {
  if (rules.selectPolicy === "Disabled") return "nothing: the policy turns this direction off";
  return rules.policies
    .map(
      (p) => (p.type === "Pods" ? `${p.value} instance${p.value === 1 ? "" : "s"}` : `${p.value}%`) + ` per ${p.periodSeconds} s`,
    )
    .join(rules.selectPolicy === "Min" ? " and " : " or ");
}

export function explainDecision(decision: Decision, spec: PolicySpec): string {
  const { currentReplicas: current, desiredReplicas: desired, metricReplicas: asked, proposals } = decision;
  switch (decision.reason) {
    case "ScalingDisabled":
      return `${desired}: the target runs no instances, which turns autoscaling off (as the HPA does at 0 replicas)`;
    case "AboveMax":
      return `${desired} because ${current} is above the policy's maximum of ${spec.maxReplicas}`;
    case "BelowMin":
      return `${desired} because ${current} is below the policy's minimum of ${spec.minReplicas}`;
    case "NoMetrics":
      return `${desired}: no instance reported ${proposals.map((p) => labelOf(p.metric)).join(" or ") || "metrics"} yet, so nothing changes`;
    case "MetricsIncomplete": {
      const missing = proposals.filter((p) => p.ratio === null).map((p) => labelOf(p.metric));
      return `${desired}: ${missing.join(" and ")} has no data, and the HPA never scales down on the other metrics alone (they ask for ${asked})`;
    }
    case "WithinTolerance":
    case "DesiredWithinRange":
      return `${desired} because ${because(decision, spec)}`;
    case "ScaleUpStabilized":
      return `${desired}, not ${asked}: ${because(decision, spec)}, but scale-up waits for the lowest recommendation of the last ${spec.behavior.scaleUp.stabilizationWindowSeconds} s`;
    case "ScaleDownStabilized":
      return `${desired}, not ${asked}: ${because(decision, spec)}, but scale-down keeps the highest recommendation of the last ${spec.behavior.scaleDown.stabilizationWindowSeconds} s`;
    case "ScaleUpLimit":
      return `${desired} because ${because(decision, spec)} (it asks for ${asked}; scale-up is limited to ${rate(spec.behavior.scaleUp)})`;
    case "ScaleDownLimit":
      return `${desired} because ${because(decision, spec)} (it asks for ${asked}; scale-down is limited to ${rate(spec.behavior.scaleDown)})`;
    case "TooManyReplicas":
      return `${desired} because ${because(decision, spec)} (it asks for ${asked}, above the policy's maximum of ${spec.maxReplicas})`;
    case "TooFewReplicas":
      return `${desired} because ${because(decision, spec)} (it asks for ${asked}, below the policy's minimum of ${spec.minReplicas})`;
  }
}
