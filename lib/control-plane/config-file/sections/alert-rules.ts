// The alert rules section: the rules are the product's (seeded by migrations), so the file sets
// the terms of rules it names by id — the fields it gives, the others stay — and marks them as
// its own. A rule it managed and no longer names keeps its terms and is the console's again.
import { recordAudit } from "../../audit/audit";
import { PERCENT_METRICS, updateAlertRule, type AlertRule } from "../../alerts/rules";
import { AppError } from "../../../platform/errors";
import { assertUpstreamUrlAllowed } from "../../../platform/net/upstream-url";
import { MANAGED_BY_FILE } from "../managed";
import { shown, type ApplyContext, type ConfigChange, type ConfigSection, type FieldChange, type Tx } from "./types";

const TERMS = ["threshold", "forSeconds", "windowSeconds", "enabled", "severity", "webhookUrl", "webhookFormat"] as const;

/** Webhook URLs may carry tokens: the audit log keeps whether one is set, as the console shows. */
const forAudit = ({ webhookUrl, ...rule }: AlertRule) => ({ ...rule, webhookUrl: webhookUrl ? "(set)" : null });

export const alertRulesSection: ConfigSection = {
  name: "alertRules",
  async plan(tx, config, context) {
    const rows = await tx.alertRule.findMany({ orderBy: { id: "asc" } });
    const byId = new Map(rows.map((row) => [row.id, row]));
    const changes: ConfigChange[] = [];
    const writes: Array<(t: Tx, apply: ApplyContext) => Promise<void>> = [];

    for (const [index, desired] of config.alertRules.entries()) {
      const path = `alertRules[${index}]`;
      const row = byId.get(desired.id);
      if (!row) {
        context.issue(`${path}.id`, `no alert rule "${desired.id}"; the rules are: ${rows.map((r) => r.id).join(", ")}`);
        continue;
      }
      if (desired.threshold === null && row.metric !== "instance_count")
        context.issue(`${path}.threshold`, "only the instance_count rule can follow the scaling policy (null): give a threshold");
      if (
        typeof desired.threshold === "number" &&
        PERCENT_METRICS.has(row.metric) &&
        !(desired.threshold > 0 && desired.threshold <= 100)
      ) {
        context.issue(`${path}.threshold`, `${row.metric} is a percentage: the threshold must be above 0 and at most 100`);
      }
      if (desired.webhookUrl) {
        try {
          await assertUpstreamUrlAllowed(desired.webhookUrl, `${path}.webhookUrl`);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          context.issue(`${path}.webhookUrl`, error.message.replace(`${path}.webhookUrl: `, ""));
        }
      }
      const change: Record<string, unknown> = {};
      const fields: FieldChange[] = [];
      for (const term of TERMS) {
        const wanted = desired[term];
        if (wanted === undefined || wanted === row[term]) continue;
        change[term] = wanted;
        fields.push(
          term === "webhookUrl"
            ? { field: term, before: row.webhookUrl ? "(set)" : "—", after: wanted ? "(set)" : "—" }
            : { field: term, before: shown(row[term]), after: shown(wanted) },
        );
      }
      if (fields.length === 0 && row.managedBy === MANAGED_BY_FILE) continue;
      changes.push({ op: row.managedBy === MANAGED_BY_FILE ? "update" : "adopt", kind: "alert rule", name: row.id, fields });
      writes.push(async (t, apply) => {
        if (fields.length > 0) {
          const { before, after } = await updateAlertRule(t, row.id, change, apply.actor.email, undefined, MANAGED_BY_FILE);
          await recordAudit(t, apply.actor, {
            action: "alert_rule.update",
            targetType: "alert_rule",
            targetId: row.id,
            before: forAudit(before),
            after: forAudit(after),
          });
        } else {
          await t.alertRule.update({ where: { id: row.id }, data: { managedBy: MANAGED_BY_FILE } });
          await recordAudit(t, apply.actor, {
            action: "alert_rule.adopt",
            targetType: "alert_rule",
            targetId: row.id,
            after: { managedBy: MANAGED_BY_FILE },
          });
        }
      });
    }

    const listed = new Set(config.alertRules.map((r) => r.id));
    for (const row of rows) {
      if (row.managedBy !== MANAGED_BY_FILE || listed.has(row.id)) continue;
      changes.push({ op: "release", kind: "alert rule", name: row.id, fields: [] });
      writes.push(async (t, apply) => {
        await t.alertRule.update({ where: { id: row.id }, data: { managedBy: null } });
        await recordAudit(t, apply.actor, {
          action: "alert_rule.release",
          targetType: "alert_rule",
          targetId: row.id,
          before: { managedBy: row.managedBy },
        });
      });
    }
    return {
      changes,
      async apply(t, apply) {
        for (const write of writes) await write(t, apply);
      },
    };
  },
};
