// An alert's title and description, derived from the terms in force — metric, comparison,
// threshold, duration, window — so that an alert edited to 70% for 120 s says "CPU above 70% for
// 2 minutes" everywhere it appears (console, overview, webhooks), never the seeded text.
export type AlertMetricName =
  | "cpu_percent"
  | "memory_percent"
  | "error_rate_percent"
  | "latency_p95_seconds"
  | "instance_count"
  | "upstream_auth_rejected"
  | "key_budget_used_percent";

export interface AlertTerms {
  metric: AlertMetricName;
  comparison: "above" | "below";
  threshold: number;
  /** The threshold is the scaling policy's minimum, not the rule's own. */
  thresholdFromPolicy: boolean;
  forSeconds: number;
  windowSeconds: number;
}

interface MetricWords {
  /** Short name, first in the title. */
  label: string;
  unit: string;
  /** What is measured, in a sentence's subject. */
  measured: string;
  /** How the window applies: averaged, counted... */
  over: string;
}

const WORDS: Record<AlertMetricName, MetricWords> = {
  cpu_percent: { label: "CPU", unit: "%", measured: "An instance's CPU use (% of one core)", over: "averaged over" },
  memory_percent: {
    label: "Memory",
    unit: "% of the limit",
    measured: "An instance's resident memory (% of its memory limit)",
    over: "averaged over",
  },
  error_rate_percent: {
    label: "Error rate",
    unit: "%",
    measured: "The share of completion requests answered with a 5xx, fleet-wide",
    over: "over",
  },
  latency_p95_seconds: {
    label: "p95 latency",
    unit: " s",
    measured: "The fleet's 95th percentile completion latency (merged histograms)",
    over: "over",
  },
  instance_count: { label: "Healthy instances", unit: "", measured: "The number of healthy instances in the registry", over: "" },
  upstream_auth_rejected: {
    label: "Provider credentials rejected",
    unit: "",
    measured: "Upstream attempts refused with 401/403 — a provider rejects the gateway's key — fleet-wide",
    over: "counted over",
  },
  key_budget_used_percent: {
    label: "Key budget used",
    unit: "%",
    measured: "An API key's use of its daily or monthly budget (the larger share; spent, or claimed by instances)",
    over: "",
  },
};

const UNITS: Array<[number, string]> = [
  [86_400, "day"],
  [3_600, "hour"],
  [60, "minute"],
  [1, "second"],
];

/** 300 → "5 minutes", 90 → "90 seconds", 3600 → "1 hour": the largest unit that divides it. */
export function formatDuration(seconds: number): string {
  const [size, unit] = UNITS.find(([size]) => seconds % size === 0 && seconds >= size) ?? [1, "second"];
  const count = seconds / size;
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

const number = (n: number) => String(Number(n.toFixed(4)));

export function alertTitle(terms: AlertTerms): string {
  const words = WORDS[terms.metric];
  const lasting = terms.forSeconds > 0 ? ` for ${formatDuration(terms.forSeconds)}` : "";
  if (terms.metric === "upstream_auth_rejected") {
    // "above 0", the seeded rule, is simply "any".
    return terms.comparison === "above" && terms.threshold === 0
      ? words.label
      : `${words.label} ${terms.comparison} ${number(terms.threshold)} times${lasting}`;
  }
  const threshold = terms.thresholdFromPolicy
    ? `the policy minimum (${number(terms.threshold)})`
    : `${number(terms.threshold)}${words.unit}`;
  return `${words.label} ${terms.comparison} ${threshold}${lasting}`;
}

export function alertDescription(terms: AlertTerms): string {
  const words = WORDS[terms.metric];
  const window = words.over ? `, ${words.over} ${formatDuration(terms.windowSeconds)},` : "";
  const unit = words.unit === "% of the limit" ? "%" : words.unit;
  const threshold = `${number(terms.threshold)}${unit}${terms.thresholdFromPolicy ? " (the active scaling policy's minimum)" : ""}`;
  const lasting = terms.forSeconds > 0 ? ` for ${formatDuration(terms.forSeconds)}` : ", at once";
  return `${words.measured}${window} ${terms.comparison} ${threshold}${lasting}.`;
}
