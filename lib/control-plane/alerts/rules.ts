// Alert rules as the console reads and edits them, their current state and their history. The
// rules live in PostgreSQL (seeded by the migrations: the scaling guide's five, and "provider
// credentials rejected"); the leader evaluates them (lib/control-plane/alerts/engine.ts). Titles and
// descriptions are derived from the terms in force (describe.ts), never the seeded text.
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import { BadRequestError, NotFoundError } from "../../platform/errors";
import { managedByFile } from "../config-file/managed";
import { alertDescription, alertTitle, type AlertMetricName, type AlertTerms } from "./describe";
import { DEFAULT_MIN_REPLICAS, policyMinReplicas, severityInForce, type ScalingTargetKind } from "./policy";
import { WEBHOOK_FORMATS, type WebhookFormat } from "./webhook-format";

/** A client or an open transaction: the configuration file applies rule terms inside its own. */
type Db = PrismaClient | Prisma.TransactionClient;

export type AlertStatusName = "inactive" | "pending" | "firing";
export type AlertTransitionName = "pending" | "firing" | "resolved" | "cancelled";

/** Metrics in percent: a threshold must lie in (0, 100]. */
export const PERCENT_METRICS: ReadonlySet<AlertMetricName> = new Set([
  "cpu_percent",
  "memory_percent",
  "error_rate_percent",
  "key_budget_used_percent",
]);

/** `threshold` is the one in force: for instance_count without one of its own, the active policy's minimum. */
export interface AlertRule extends AlertTerms {
  id: string;
  name: string;
  description: string;
  /** The severity in force (see severityInForce); `severityReason` says why it differs from the rule's. */
  severity: string;
  severityReason: string | null;
  enabled: boolean;
  webhookUrl: string | null;
  /** Null: ALERT_WEBHOOK_FORMAT. */
  webhookFormat: WebhookFormat | null;
  /** While set, the rule is evaluated and recorded but notifies nobody. */
  silence: { until: Date; by: string | null } | null;
  /** The most severe state across the rule's subjects. */
  state: AlertStatusName;
  /** Since when that state's condition has held (null while inactive). */
  activeSince: Date | null;
  /** Subjects (instance ids, or "fleet") pending or firing now, and who acknowledged each. */
  activeSubjects: ActiveSubject[];
  updatedAt: Date;
  updatedBy: string | null;
  /** "file" when the configuration file sets its terms (then only the file changes them). */
  managedBy: string | null;
}

export interface ActiveSubject {
  subject: string;
  status: AlertStatusName;
  since: Date | null;
  value: number | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
}

/** What the listing needs beyond the database: where the scaling decision goes, and the time. */
export interface RuleContext {
  scalingTarget: ScalingTargetKind;
  now?: Date;
}

export interface AlertHistoryEntry {
  id: string;
  ruleId: string;
  ruleName: string;
  subject: string;
  state: AlertTransitionName;
  value: number | null;
  threshold: number | null;
  at: Date;
}

const SEVERITIES = ["info", "warning", "critical"] as const;

/** The terms of a rule one may change. `threshold: null` (instance_count only) follows the policy again. */
export const alertRuleTerms = z
  .object({
    // Bounded so that PostgreSQL's double precision stores it exactly as sent (no unit goes near it).
    threshold: z.number().finite().min(0).max(1e15).nullable().optional(),
    forSeconds: z.number().int().min(0).max(86_400).optional(),
    windowSeconds: z.number().int().min(10).max(86_400).multipleOf(10, "must be a multiple of 10 seconds").optional(),
    enabled: z.boolean().optional(),
    severity: z.enum(SEVERITIES).optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
      .max(2_048)
      .nullable()
      .optional(),
    webhookFormat: z.enum(WEBHOOK_FORMATS).nullable().optional(),
  })
  .strict();

/** A change to one rule; at least one field. */
export const updateAlertRuleInput = alertRuleTerms.refine((change) => Object.values(change).some((v) => v !== undefined), {
  message: "nothing to change",
});
export type UpdateAlertRuleInput = z.input<typeof updateAlertRuleInput>;

export const alertHistoryQuery = z.object({
  limit: z.number().int().min(1).max(1_000).default(100),
  ruleId: z.string().min(1).max(200).optional(),
  /** Only entries with a smaller id (the next page). */
  before: z.string().regex(/^\d+$/).optional(),
});
export type AlertHistoryQuery = z.input<typeof alertHistoryQuery>;

const STATUS_ORDER: Record<AlertStatusName, number> = { inactive: 0, pending: 1, firing: 2 };

async function activePolicyMinimum(prisma: Db): Promise<number> {
  const policy = await prisma.scalingPolicy.findFirst({ where: { active: true }, select: { spec: true } });
  return policy ? policyMinReplicas(policy.spec) : DEFAULT_MIN_REPLICAS;
}

type RuleRow = Awaited<ReturnType<typeof loadRules>>[number];

function loadRules(prisma: Db, id?: string) {
  return prisma.alertRule.findMany({
    where: id ? { id } : {},
    orderBy: { id: "asc" },
    include: { states: { where: { status: { not: "inactive" } } } },
  });
}

/** The rule's terms in force, from which its title and description are written. */
export function termsOf(
  row: {
    metric: AlertMetricName;
    comparison: "above" | "below";
    threshold: number | null;
    forSeconds: number;
    windowSeconds: number;
  },
  policyMinimum: number,
) {
  return { ...row, threshold: row.threshold ?? policyMinimum, thresholdFromPolicy: row.threshold === null };
}

const isSilenced = (until: Date | null, now: Date) => until !== null && until.getTime() > now.getTime();

function toRule(row: RuleRow, policyMinimum: number, context: RuleContext): AlertRule {
  const terms = termsOf(row, policyMinimum);
  const { severity, reason } = severityInForce(row.metric, row.severity, context.scalingTarget);
  const active = row.states
    .map((s) => ({
      subject: s.subject,
      status: s.status,
      since: s.activeSince,
      value: s.value,
      acknowledgedAt: s.acknowledgedAt,
      acknowledgedBy: s.acknowledgedBy,
    }))
    .sort((a, b) => STATUS_ORDER[b.status] - STATUS_ORDER[a.status] || a.subject.localeCompare(b.subject));
  const worst = active[0];
  return {
    id: row.id,
    name: alertTitle(terms),
    description: alertDescription(terms),
    metric: row.metric,
    comparison: row.comparison,
    threshold: terms.threshold,
    thresholdFromPolicy: terms.thresholdFromPolicy,
    forSeconds: row.forSeconds,
    windowSeconds: row.windowSeconds,
    severity,
    severityReason: reason,
    enabled: row.enabled,
    webhookUrl: row.webhookUrl,
    webhookFormat: row.webhookFormat as WebhookFormat | null,
    silence: isSilenced(row.silencedUntil, context.now ?? new Date()) ? { until: row.silencedUntil!, by: row.silencedBy } : null,
    state: worst?.status ?? "inactive",
    activeSince: worst?.since ?? null,
    activeSubjects: active,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
    managedBy: row.managedBy,
  };
}

/** Every rule with its threshold in force and its current state. */
export async function listAlertRules(
  prisma: PrismaClient,
  context: RuleContext = { scalingTarget: "none" },
): Promise<AlertRule[]> {
  const [rows, minimum] = await Promise.all([loadRules(prisma), activePolicyMinimum(prisma)]);
  return rows.map((row) => toRule(row, minimum, context));
}

/** One rule as listed; 404 when there is none. */
export async function getAlertRule(prisma: Db, id: string, context: RuleContext = { scalingTarget: "none" }): Promise<AlertRule> {
  const [[row], minimum] = await Promise.all([loadRules(prisma, id), activePolicyMinimum(prisma)]);
  if (!row) throw new NotFoundError(`No alert rule ${id}.`, { code: "alert_rule_not_found" });
  return toRule(row, minimum, context);
}

/** Applies a validated change; returns the rule before and after (for the audit log). */
export async function updateAlertRule(
  prisma: Db,
  id: string,
  input: UpdateAlertRuleInput,
  updatedBy: string | null = null,
  context: RuleContext = { scalingTarget: "none" },
  /** Who manages what this writes: null for a person (a rule the configuration file manages is refused), "file" for the file. */
  writer: string | null = null,
): Promise<{ before: AlertRule; after: AlertRule }> {
  const change = updateAlertRuleInput.parse(input);
  const minimum = await activePolicyMinimum(prisma);
  const [existing] = await loadRules(prisma, id);
  if (!existing) throw new NotFoundError(`No alert rule ${id}.`, { code: "alert_rule_not_found" });
  if (existing.managedBy && existing.managedBy !== writer) throw managedByFile("Alert rule", id);
  if (change.threshold === null && existing.metric !== "instance_count") {
    throw new BadRequestError("Only the instance-count rule can follow the scaling policy: give a threshold.", {
      param: "threshold",
      code: "invalid_field",
    });
  }
  if (
    typeof change.threshold === "number" &&
    PERCENT_METRICS.has(existing.metric) &&
    !(change.threshold > 0 && change.threshold <= 100)
  ) {
    throw new BadRequestError(`${existing.metric} is a percentage: the threshold must be above 0 and at most 100.`, {
      param: "threshold",
      code: "invalid_field",
    });
  }
  await prisma.alertRule.update({
    where: { id },
    data: { ...change, updatedBy, ...(writer === null ? {} : { managedBy: writer }) },
  });
  const [after] = await loadRules(prisma, id);
  return { before: toRule(existing, minimum, context), after: toRule(after!, minimum, context) };
}

/** State changes, newest first, each with the title it had then. */
export async function listAlertHistory(prisma: PrismaClient, query: AlertHistoryQuery = {}): Promise<AlertHistoryEntry[]> {
  const { limit, ruleId, before } = alertHistoryQuery.parse(query);
  const [events, minimum] = await Promise.all([
    prisma.alertEvent.findMany({
      where: { ...(ruleId ? { ruleId } : {}), ...(before ? { id: { lt: BigInt(before) } } : {}) },
      orderBy: { id: "desc" },
      take: limit,
      include: { rule: { select: { metric: true, comparison: true, threshold: true, forSeconds: true, windowSeconds: true } } },
    }),
    activePolicyMinimum(prisma),
  ]);
  return events.map((e) => ({
    id: e.id.toString(),
    ruleId: e.ruleId,
    ruleName: e.title ?? alertTitle(termsOf(e.rule, minimum)),
    subject: e.subject,
    state: e.state,
    value: e.value,
    threshold: e.threshold,
    at: e.at,
  }));
}

/** Alerts firing now and not silenced, one entry per rule and subject, oldest first. */
export async function listFiringAlerts(prisma: PrismaClient, context: RuleContext = { scalingTarget: "none" }) {
  const now = context.now ?? new Date();
  const [states, minimum] = await Promise.all([
    prisma.alertState.findMany({
      where: { status: "firing", rule: { enabled: true, OR: [{ silencedUntil: null }, { silencedUntil: { lte: now } }] } },
      orderBy: { firedAt: "asc" },
      include: { rule: true },
    }),
    activePolicyMinimum(prisma),
  ]);
  return states.map((s) => {
    const terms = termsOf(s.rule, minimum);
    return {
      id: `${s.ruleId}:${s.subject}`,
      ruleId: s.ruleId,
      name: alertTitle(terms),
      subject: s.subject,
      severity: severityInForce(s.rule.metric, s.rule.severity, context.scalingTarget).severity,
      since: s.firedAt,
      value: s.value,
      summary: alertDescription(terms),
      acknowledgedBy: s.acknowledgedBy,
    };
  });
}
