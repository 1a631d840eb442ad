import { describe, expect, it } from "vitest";
import { alertDescription, alertTitle, formatDuration } from "../../lib/control-plane/alerts/describe";
import { severityInForce } from "../../lib/control-plane/alerts/policy";
import { slackText, webhookBody, type AlertNotification } from "../../lib/control-plane/alerts/webhook";
import { arrangeAlertRules } from "../../lib/control-plane/console/alert-list";
import type { AlertRuleDto } from "../../lib/control-plane/console/contracts";

const cpu = {
  metric: "cpu_percent",
  comparison: "above",
  threshold: 80,
  thresholdFromPolicy: false,
  forSeconds: 300,
  windowSeconds: 60,
} as const;

describe("alert titles and descriptions", () => {
  it("follow the thresholds in force, not the seeded text", () => {
    expect(alertTitle(cpu)).toBe("CPU above 80% for 5 minutes");
    // The case: edited to 70% for 120 s.
    expect(alertTitle({ ...cpu, threshold: 70, forSeconds: 120 })).toBe("CPU above 70% for 2 minutes");
    expect(alertDescription({ ...cpu, threshold: 70, forSeconds: 120 })).toBe(
      "An instance's CPU use (% of one core), averaged over 1 minute, above 70% for 2 minutes.",
    );
    expect(alertTitle({ ...cpu, metric: "memory_percent", threshold: 90 })).toBe("Memory above 90% of the limit for 5 minutes");
    expect(alertTitle({ ...cpu, metric: "latency_p95_seconds", threshold: 1.5, forSeconds: 0 })).toBe("p95 latency above 1.5 s");
    expect(alertDescription({ ...cpu, metric: "error_rate_percent", threshold: 5, forSeconds: 0 })).toMatch(
      /5xx.* above 5%, at once\.$/,
    );
  });

  it("say when the threshold is the scaling policy's minimum", () => {
    const instances = {
      metric: "instance_count",
      comparison: "below",
      threshold: 3,
      thresholdFromPolicy: true,
      forSeconds: 0,
      windowSeconds: 60,
    } as const;
    expect(alertTitle(instances)).toBe("Healthy instances below the policy minimum (3)");
    expect(alertTitle({ ...instances, threshold: 2, thresholdFromPolicy: false })).toBe("Healthy instances below 2");
    expect(alertDescription(instances)).toContain("below 3 (the active scaling policy's minimum), at once.");
  });

  it("name the credentials rule plainly at its seeded threshold, and its count otherwise", () => {
    const rejected = {
      metric: "upstream_auth_rejected",
      comparison: "above",
      threshold: 0,
      thresholdFromPolicy: false,
      forSeconds: 0,
      windowSeconds: 300,
    } as const;
    expect(alertTitle(rejected)).toBe("Provider credentials rejected");
    expect(alertTitle({ ...rejected, threshold: 10 })).toBe("Provider credentials rejected above 10 times");
    expect(alertDescription(rejected)).toContain("counted over 5 minutes");
  });

  it("formats durations in the largest whole unit", () => {
    expect([60, 90, 120, 300, 3_600, 5_400, 86_400, 1].map(formatDuration)).toEqual([
      "1 minute",
      "90 seconds",
      "2 minutes",
      "5 minutes",
      "1 hour",
      "90 minutes",
      "1 day",
      "1 second",
    ]);
  });
});

describe("severity in force", () => {
  it("makes 'below the policy minimum' a warning where nothing can add instances", () => {
    expect(severityInForce("instance_count", "critical", "none")).toEqual({
      severity: "warning",
      reason: expect.stringContaining("SCALING_TARGET"),
    });
    expect(severityInForce("instance_count", "critical", "kubernetes")).toEqual({ severity: "critical", reason: null });
    expect(severityInForce("instance_count", "critical", "local")).toEqual({ severity: "critical", reason: null });
    expect(severityInForce("cpu_percent", "critical", "none")).toEqual({ severity: "critical", reason: null });
  });
});

describe("webhook bodies", () => {
  const notification: AlertNotification = {
    rule: {
      id: "cpu_high",
      name: "CPU above 70% for 2 minutes",
      severity: "warning",
      metric: "cpu_percent",
      comparison: "above",
      threshold: 70,
      forSeconds: 120,
    },
    subject: "host-1:3000",
    state: "firing",
    value: 83.456789,
    at: "2026-12-04T21:00:00.000Z",
    source: "postgres",
  };

  it("is the notification as JSON, or a Slack-compatible {text}", () => {
    expect(JSON.parse(webhookBody(notification, "json"))).toEqual(notification);
    expect(JSON.parse(webhookBody(notification, "slack"))).toEqual({ text: slackText(notification) });
    expect(slackText(notification)).toBe(
      "[FIRING] CPU above 70% for 2 minutes (warning) — host-1:3000: value 83.4568, threshold 70, at 2026-12-04T21:00:00.000Z",
    );
    expect(slackText({ ...notification, value: null, state: "resolved" })).toMatch(/^\[RESOLVED\] .* value no data,/);
  });
});

describe("the alerts page's order", () => {
  const rule = (id: string, state: AlertRuleDto["state"], severity: string, extra: Partial<AlertRuleDto> = {}): AlertRuleDto => ({
    id,
    name: id,
    description: "",
    metric: "cpu_percent",
    comparison: "above",
    threshold: 1,
    thresholdFromPolicy: false,
    forSeconds: 0,
    windowSeconds: 60,
    severity,
    severityReason: null,
    enabled: true,
    webhookFormat: null,
    silence: null,
    state,
    activeSince: null,
    activeSubjects: [],
    updatedAt: "",
    updatedBy: null,
    managedBy: null,
    ...extra,
  });

  it("puts firing first (critical before warning), then pending, then quiet, and silenced apart", () => {
    const { listed, silenced } = arrangeAlertRules([
      rule("a-quiet", "inactive", "critical"),
      rule("b-pending", "pending", "warning"),
      rule("c-firing-warning", "firing", "warning"),
      rule("d-silenced", "firing", "critical", { silence: { until: "2026-12-05T00:00:00Z", by: "op@example.test" } }),
      rule("e-firing-critical", "firing", "critical"),
      rule("f-disabled", "firing", "critical", { enabled: false }),
    ]);
    expect(listed.map((r) => r.id)).toEqual(["e-firing-critical", "c-firing-warning", "b-pending", "a-quiet", "f-disabled"]);
    expect(silenced.map((r) => r.id)).toEqual(["d-silenced"]);
  });
});
