// Alerts each instance raises about its own dependencies: "database unreachable" and
// "configuration stale". The leader's engine (engine.ts) keeps its rules, states and history in
// PostgreSQL, so it cannot report PostgreSQL's absence; these two rules are fixed in code, held in
// the instance's memory, and go out through the log and ALERT_WEBHOOK_URL, which need no
// database. Every instance speaks for itself (subject: its INSTANCE_ID), so a fleet-wide outage
// sends one notification per instance. Same `for` semantics as every other rule (state.ts).
import type { Logger } from "pino";
import type { DependencyStatus } from "../../platform/health/checks";
import type { AlertTransitionName } from "./rules";
import { breaches, INACTIVE, nextState, type SubjectState } from "./state";
import type { AlertNotification, WebhookSender } from "./webhook";
import type { WebhookFormat } from "./webhook-format";

interface DependencyRule {
  id: "database-unreachable" | "configuration-stale";
  name: string;
  metric: string;
  comparison: "above" | "below";
  threshold: number;
  forSeconds: number;
}

export interface DependencyAlertOptions {
  instanceId: string;
  /** The cached database check /health runs. */
  database: () => Promise<DependencyStatus>;
  /** Milliseconds since the configuration was last confirmed current (undefined while never loaded). */
  configAgeMs: () => number | undefined;
  /** CONFIG_MAX_STALENESS_MS: "stale" fires at half of it, while there is time before readiness fails. */
  maxStalenessMs: number;
  webhookUrl?: string;
  /** ALERT_WEBHOOK_FORMAT (default json). */
  webhookFormat?: WebhookFormat;
  webhooks: WebhookSender;
  logger: Logger;
  now?: () => number;
}

export interface DependencyTransition {
  rule: DependencyRule["id"];
  state: AlertTransitionName;
  value: number | null;
}

const SEVERITY = "critical";

/** The two rules; "database unreachable" waits a minute, as a brief blip is harmless. */
function dependencyRules(maxStalenessMs: number): DependencyRule[] {
  return [
    {
      id: "database-unreachable",
      name: "Database unreachable",
      metric: "database_up",
      comparison: "below",
      threshold: 1,
      forSeconds: 60,
    },
    {
      id: "configuration-stale",
      name: "Configuration stale",
      metric: "config_age_seconds",
      comparison: "above",
      threshold: maxStalenessMs / 2 / 1000,
      forSeconds: 0,
    },
  ];
}

export class DependencyAlerts {
  private readonly rules: DependencyRule[];
  private readonly states = new Map<DependencyRule["id"], SubjectState>();
  private readonly now: () => number;

  constructor(private readonly options: DependencyAlertOptions) {
    this.rules = dependencyRules(options.maxStalenessMs);
    this.now = options.now ?? Date.now;
  }

  /** One evaluation of both rules; resolves to the state changes it made (and announced). */
  async evaluate(): Promise<DependencyTransition[]> {
    const database = await this.options.database();
    const age = this.options.configAgeMs();
    const values: Record<DependencyRule["id"], number | null> = {
      "database-unreachable": database.status === "up" ? 1 : 0,
      "configuration-stale": age === undefined ? null : age / 1000,
    };
    const nowMs = this.now();
    const transitions: DependencyTransition[] = [];
    for (const rule of this.rules) {
      const value = values[rule.id];
      const { state, transition } = nextState(
        this.states.get(rule.id) ?? INACTIVE,
        breaches(value, rule.comparison, rule.threshold),
        nowMs,
        rule.forSeconds,
      );
      this.states.set(rule.id, state);
      if (!transition) continue;
      transitions.push({ rule: rule.id, state: transition, value });
      this.announce(rule, transition, value, nowMs, database.error);
    }
    return transitions;
  }

  /** Evaluates every `intervalMs` until the returned function is called. */
  start(intervalMs: number): () => void {
    const timer = setInterval(() => {
      this.evaluate().catch((error: Error) =>
        this.options.logger.warn({ err: error.message }, "dependency alerts not evaluated"),
      );
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private announce(
    rule: DependencyRule,
    state: AlertTransitionName,
    value: number | null,
    nowMs: number,
    databaseError: string | undefined,
  ): void {
    const { logger, webhookUrl, webhooks, instanceId } = this.options;
    if (state === "firing")
      logger.error({ rule: rule.id, subject: instanceId, value, database_error: databaseError }, `alert firing: ${rule.name}`);
    if (state === "resolved") logger.warn({ rule: rule.id, subject: instanceId, value }, `alert resolved: ${rule.name}`);
    if (!webhookUrl) return;
    const notification: AlertNotification = {
      rule: {
        id: rule.id,
        name: rule.name,
        severity: SEVERITY,
        metric: rule.metric,
        comparison: rule.comparison,
        threshold: rule.threshold,
        forSeconds: rule.forSeconds,
      },
      subject: instanceId,
      state,
      value,
      at: new Date(nowMs).toISOString(),
      source: "instance",
    };
    webhooks.send(webhookUrl, notification, this.options.webhookFormat);
  }
}
