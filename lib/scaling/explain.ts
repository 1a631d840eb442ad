// A decision in words, for the console and the decision history: "5 because average CPU 84% is
// above the 70% target". Pure: the decision, the policy, nothing else.
import type { Decision, MetricProposal } from "./hpa";
import { METRIC_NAMES, scaleDownTolerance, type PolicySpec } from "./policies";

const LABELS: Record<string, string> = {
  [METRIC_NAMES.cpu]: "CPU",
  [METRIC_NAMES.memory]: "memory",
  [METRIC_NAMES.rps]: "requests per instance",
};

function unitValue(metric: string, value: number): string {
  if (metric === METRIC_NAMES.rps) return `${Number(value.toFixed(value < 10 ? 2 : 1))}/s`;
  return `${Math.round(value)}%`;
}

/** "average CPU 84%" */
export function describeAverage(p: Pick<MetricProposal, "metric" | "currentAverage">): string {
  const label = LABELS[p.metric] ?? p.metric;
  return p.currentAverage === null ? `${label} (no data)` : `average ${label} ${unitValue(p.metric, p.currentAverage)}`;
}

/** The level at or below which the metric lets the fleet shrink: target × scaleDownAt ÷ scaleUpAt. */
function scaleDownLevel(p: MetricProposal, spec: PolicySpec): number {
  return p.target * (1 - scaleDownTolerance(spec));
}

function why(p: MetricProposal, spec: PolicySpec, up: boolean): string {
  const threshold = up ? `the ${unitValue(p.metric, p.target)} target` : `the ${unitValue(p.metric, scaleDownLevel(p, spec))} scale-down threshold`;
  return `${describeAverage(p)} is ${up ? "above" : "at or below"} ${threshold}`;
}

function rate(rules: PolicySpec["behavior"]["scaleUp"]): string {
  return rules.policies.map((p) => (p.type === "Pods" ? `${p.value} instance${p.value === 1 ? "" : "s"}` : `${p.value}%`) + ` per ${p.periodSeconds} s`).join(rules.selectPolicy === "Min" ? " and " : " or ");
}

export function explainDecision(decision: Decision, spec: PolicySpec): string {
  const { currentReplicas: current, desiredReplicas: desired, metricReplicas: asked, driver, proposals } = decision;
  const up = asked > current;
  // Metrics asking for the same count: the one closest to its target says the most (the HPA names the first).
  const binding = proposals.filter((p) => p.ratio !== null && p.replicas === driver?.replicas).sort((a, b) => b.ratio! - a.ratio!)[0] ?? driver;
  const because = binding ? why(binding, spec, up) : "";
  switch (decision.reason) {
    case "ScalingDisabled":
      return `${desired}: the target runs no instances, which turns autoscaling off (as the HPA does at 0 replicas)`;
    case "AboveMax":
      return `${desired} because ${current} is above the policy's maximum of ${spec.maxReplicas}`;
    case "BelowMin":
      return `${desired} because ${current} is below the policy's minimum of ${spec.minReplicas}`;
    case "NoMetrics":
      return `${desired}: no instance reported ${proposals.map((p) => LABELS[p.metric] ?? p.metric).join(" or ") || "metrics"} yet, so nothing changes`;
    case "MetricsIncomplete": {
      const missing = proposals.filter((p) => p.ratio === null).map((p) => LABELS[p.metric] ?? p.metric);
      return `${desired}: ${missing.join(" and ")} has no data, and the HPA never scales down on the other metrics alone (they ask for ${asked})`;
    }
    case "WithinTolerance": {
      const shown = proposals.find((p) => p.metric === METRIC_NAMES.cpu && p.currentAverage !== null) ?? driver;
      if (!shown) return `${desired}: nothing to change`;
      return `${desired} because ${describeAverage(shown)} is between the ${unitValue(shown.metric, scaleDownLevel(shown, spec))} scale-down and ${unitValue(shown.metric, shown.target)} scale-up thresholds`;
    }
    case "DesiredWithinRange":
      if (desired === current) return `${desired}: ${binding ? describeAverage(binding) : "the metrics"} still needs ${desired}`;
      return `${desired} because ${because}`;
    case "ScaleUpStabilized":
      return `${desired}, not ${asked}: ${because}, but scale-up waits for the lowest recommendation of the last ${spec.behavior.scaleUp.stabilizationWindowSeconds} s`;
    case "ScaleDownStabilized":
      return `${desired}, not ${asked}: ${because}, but scale-down keeps the highest recommendation of the last ${spec.behavior.scaleDown.stabilizationWindowSeconds} s`;
    case "ScaleUpLimit":
      return `${desired} because ${because} (it asks for ${asked}; scale-up is limited to ${rate(spec.behavior.scaleUp)})`;
    case "ScaleDownLimit":
      return `${desired} because ${because} (it asks for ${asked}; scale-down is limited to ${rate(spec.behavior.scaleDown)})`;
    case "TooManyReplicas":
      return `${desired} because ${because} (it asks for ${asked}, above the policy's maximum of ${spec.maxReplicas})`;
    case "TooFewReplicas":
      return `${desired} because ${because} (it asks for ${asked}, below the policy's minimum of ${spec.minReplicas})`;
  }
}
