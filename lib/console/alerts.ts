// Alert rules (thresholds editable by admins), their state and history, through the alerting
// module (lib/alerts/rules.ts), which owns the rules and their evaluation.
import { z } from "zod";
import { assertUpstreamUrlAllowed } from "../net/upstream-url";
import { recordAudit } from "../audit/audit";
import { alertHistoryQuery, listAlertHistory, listAlertRules, listFiringAlerts, updateAlertRule, updateAlertRuleInput, type AlertRule } from "../alerts/rules";
import type { PrismaClient } from "../db/generated/client";
import type { AlertEventDto, AlertRuleDto, FiringAlert } from "./contracts";
import { alertRuleParams } from "./contracts";
import { actorOf, consoleHandler } from "./handler";

/** The history's query as it arrives in a URL: numbers as text. */
export const alertHistoryUrlQuery = alertHistoryQuery.extend({ limit: z.coerce.number().int().min(1).max(1_000).default(100) });

const iso = (date: Date | null) => (date ? date.toISOString() : null);

// Webhook URLs may carry tokens: the console does not show them.
export function toRuleDto({ webhookUrl: _hidden, ...rule }: AlertRule): AlertRuleDto {
  return {
    ...rule,
    activeSince: iso(rule.activeSince),
    updatedAt: rule.updatedAt.toISOString(),
    activeSubjects: rule.activeSubjects.map((s) => ({ ...s, since: iso(s.since) })),
  };
}

export async function firingAlerts(prisma: PrismaClient): Promise<{ firing: FiringAlert[] }> {
  const firing = await listFiringAlerts(prisma);
  return { firing: firing.map((a) => ({ ...a, since: iso(a.since) })) };
}

// GET /api/console/alerts/rules — every rule with its threshold in force and current state.
export const listAlertRulesHandler = consoleHandler({ scope: "alerts.read" }, async ({ prisma }) => ({ rules: (await listAlertRules(prisma)).map(toRuleDto) }));

// PATCH /api/console/alerts/rules/:id — threshold, duration, window, severity or switch.
export const updateAlertRuleHandler = consoleHandler({ scope: "alerts.write", params: alertRuleParams, body: updateAlertRuleInput }, async ({ prisma, params, body, session }) => {
  if (body.webhookUrl) await assertUpstreamUrlAllowed(body.webhookUrl, "webhookUrl");
  const { before, after } = await updateAlertRule(prisma, params.id, body, session.email);
  // The alerting module writes the rule in its own statement; the entry follows at once.
  await recordAudit(prisma, actorOf(session), { action: "alert_rule.update", targetType: "alert_rule", targetId: params.id, before: toRuleDto(before), after: toRuleDto(after) });
  return { rule: toRuleDto(after) };
});

// GET /api/console/alerts/history?limit=&ruleId=&before= — state changes, newest first.
export const listAlertHistoryHandler = consoleHandler({ scope: "alerts.read", query: alertHistoryUrlQuery }, async ({ prisma, query }) => {
  const events = await listAlertHistory(prisma, query);
  return { events: events.map((e): AlertEventDto => ({ ...e, at: e.at.toISOString() })) };
});
