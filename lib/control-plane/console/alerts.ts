// Alert rules (thresholds editable by admins; acknowledged and silenced by operators), their state
// and history, through the alerting module (lib/control-plane/alerts), which owns the rules and their evaluation.
import "server-only";
import { z } from "zod";
import { assertUpstreamUrlAllowed } from "../../platform/net/upstream-url";
import { recordAudit } from "../audit/audit";
import { acknowledgeAlert, silenceAlert, silenceAlertInput, unsilenceAlert, type AlertAction } from "../alerts/actions";
import {
  alertHistoryQuery,
  listAlertHistory,
  listAlertRules,
  listFiringAlerts,
  updateAlertRule,
  updateAlertRuleInput,
  type AlertRule,
  type RuleContext,
} from "../alerts/rules";
import { getConfig } from "../../platform/config";
import type { PrismaClient } from "../../platform/db/generated/client";
import type { ConsoleSession } from "../auth/session";
import type { AlertEventDto, AlertRuleDto, FiringAlert } from "./contracts";
import { alertRuleParams } from "./contracts";
import { actorOf, consoleHandler } from "./handler";

/** The history's query as it arrives in a URL: numbers as text. */
const alertHistoryUrlQuery = alertHistoryQuery.extend({ limit: z.coerce.number().int().min(1).max(1_000).default(100) });

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** Where this process's scaling decisions go: how severe "below the policy minimum" is. */
const ruleContext = (): RuleContext => ({ scalingTarget: getConfig().SCALING_TARGET });

// Webhook URLs may carry tokens: the console does not show them.
function toRuleDto({ webhookUrl: _hidden, ...rule }: AlertRule): AlertRuleDto {
  return {
    ...rule,
    activeSince: iso(rule.activeSince),
    updatedAt: rule.updatedAt.toISOString(),
    silence: rule.silence ? { until: rule.silence.until.toISOString(), by: rule.silence.by } : null,
    activeSubjects: rule.activeSubjects.map((s) => ({ ...s, since: iso(s.since), acknowledgedAt: iso(s.acknowledgedAt) })),
  };
}

export async function firingAlerts(prisma: PrismaClient): Promise<{ firing: FiringAlert[] }> {
  const firing = await listFiringAlerts(prisma, ruleContext());
  return { firing: firing.map((a) => ({ ...a, since: iso(a.since) })) };
}

// GET /api/console/alerts/rules — every rule with its threshold in force and current state.
export const listAlertRulesHandler = consoleHandler({ scope: "alerts.read" }, async ({ prisma }) => ({
  rules: (await listAlertRules(prisma, ruleContext())).map(toRuleDto),
}));

// PATCH /api/console/alerts/rules/:id — threshold, duration, window, severity, switch or webhook.
export const updateAlertRuleHandler = consoleHandler(
  { scope: "alerts.write", params: alertRuleParams, body: updateAlertRuleInput },
  async ({ prisma, params, body, session }) => {
    if (body.webhookUrl) await assertUpstreamUrlAllowed(body.webhookUrl, "webhookUrl");
    const { before, after } = await updateAlertRule(prisma, params.id, body, session.email, ruleContext());
    // The alerting module writes the rule in its own statement; the entry follows at once.
    await recordAudit(prisma, actorOf(session), {
      action: "alert_rule.update",
      targetType: "alert_rule",
      targetId: params.id,
      before: toRuleDto(before),
      after: toRuleDto(after),
    });
    return { rule: toRuleDto(after) };
  },
);

async function audited(
  prisma: PrismaClient,
  session: ConsoleSession,
  action: "alert.acknowledge" | "alert.silence" | "alert.unsilence",
  id: string,
  { before, after }: AlertAction,
) {
  await recordAudit(prisma, actorOf(session), {
    action,
    targetType: "alert_rule",
    targetId: id,
    before: toRuleDto(before),
    after: toRuleDto(after),
  });
  return { rule: toRuleDto(after) };
}

// POST /api/console/alerts/rules/:id/acknowledge — someone is on it (until the alert ends).
export const acknowledgeAlertHandler = consoleHandler(
  { scope: "alerts.acknowledge", params: alertRuleParams },
  async ({ prisma, params, session }) =>
    audited(
      prisma,
      session,
      "alert.acknowledge",
      params.id,
      await acknowledgeAlert(prisma, params.id, session.email, ruleContext()),
    ),
);

// PUT /api/console/alerts/rules/:id/silence — no notifications for the chosen duration.
export const silenceAlertHandler = consoleHandler(
  { scope: "alerts.acknowledge", params: alertRuleParams, body: silenceAlertInput },
  async ({ prisma, params, body, session }) =>
    audited(
      prisma,
      session,
      "alert.silence",
      params.id,
      await silenceAlert(prisma, params.id, body, session.email, ruleContext()),
    ),
);

// DELETE /api/console/alerts/rules/:id/silence — notifications again from now.
export const unsilenceAlertHandler = consoleHandler(
  { scope: "alerts.acknowledge", params: alertRuleParams },
  async ({ prisma, params, session }) =>
    audited(prisma, session, "alert.unsilence", params.id, await unsilenceAlert(prisma, params.id, ruleContext())),
);

// GET /api/console/alerts/history?limit=&ruleId=&before= — state changes, newest first.
export const listAlertHistoryHandler = consoleHandler(
  { scope: "alerts.read", query: alertHistoryUrlQuery },
  async ({ prisma, query }) => {
    const events = await listAlertHistory(prisma, query);
    return { events: events.map((e): AlertEventDto => ({ ...e, at: e.at.toISOString() })) };
  },
);
