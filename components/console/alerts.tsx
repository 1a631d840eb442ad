"use client";
// Alert rules with their current state — what needs someone first — then the silenced ones apart,
// then the history of state changes. Operators acknowledge and silence; admins also edit terms.
import type { AlertRuleDto } from "@/lib/control-plane/console/contracts";
import { arrangeAlertRules } from "@/lib/control-plane/console/alert-list";
import { formatNumber } from "@/lib/control-plane/console/charts";
import { useAlertHistory, useAlertRules } from "@/components/console/hooks/console";
import { AlertActions } from "./alert-actions";
import { AlertRuleEditor } from "./alert-rule-editor";
import { ManagedBadge } from "./managed-badge";
import { DataTable } from "./data-table";
import { Panel } from "./panel";
import { useCan } from "./session-context";

const when = (iso: string) => new Date(iso).toLocaleString();

function RuleRow({ rule, canAct, canWrite }: { rule: AlertRuleDto; canAct: boolean; canWrite: boolean }) {
  return (
    <tr data-rule-id={rule.id} data-state={rule.enabled ? rule.state : "disabled"}>
      <td>
        <strong>{rule.name}</strong> <span className={`pill severity-${rule.severity}`}>{rule.severity}</span>{" "}
        {rule.managedBy ? <ManagedBadge /> : null}
        <div className="muted small">{rule.description}</div>
        {rule.severityReason ? <div className="muted small">{rule.severityReason}</div> : null}
      </td>
      <td className={`alert-${rule.state}`}>
        {rule.enabled ? rule.state : "disabled"}
        {rule.activeSubjects.map((s) => (
          <div key={s.subject} className="muted small">
            {s.subject}: {s.status}, value {formatNumber(s.value, 2)}
            {s.acknowledgedBy ? ` — acknowledged by ${s.acknowledgedBy}` : ""}
          </div>
        ))}
        {rule.silence ? (
          <div className="muted small" data-testid="silence">
            silenced by {rule.silence.by ?? "someone"} until {when(rule.silence.until)}
          </div>
        ) : null}
      </td>
      {canAct ? (
        <td>
          <AlertActions rule={rule} />
          {canWrite ? (
            rule.managedBy ? (
              <p className="muted small">Terms set by the configuration file.</p>
            ) : (
              <AlertRuleEditor rule={rule} />
            )
          ) : null}
        </td>
      ) : null}
    </tr>
  );
}

function RuleTable({
  label,
  rules,
  canAct,
  canWrite,
}: {
  label: string;
  rules: AlertRuleDto[];
  canAct: boolean;
  canWrite: boolean;
}) {
  // On a phone each rule becomes a card (see .stack-on-phone): three columns do not fit.
  return (
    <div className="stack-on-phone">
      <DataTable label={label} columns={["Alert", "State", canAct ? "Act" : null]}>
        {rules.map((rule) => (
          <RuleRow key={rule.id} rule={rule} canAct={canAct} canWrite={canWrite} />
        ))}
      </DataTable>
    </div>
  );
}

export function AlertsView() {
  const rules = useAlertRules();
  const history = useAlertHistory(100);
  const canAct = useCan("alerts.acknowledge");
  const canWrite = useCan("alerts.write");
  const arranged = rules.data ? arrangeAlertRules(rules.data.rules) : undefined;
  return (
    <div className="page">
      <div className="page-header">
        <h1>Alerts</h1>
      </div>
      <Panel
        title="Rules"
        testId="panel-alert-rules"
        loading={rules.isPending}
        error={rules.error}
        empty={!!arranged && arranged.listed.length === 0}
        emptyText="Every alert rule is silenced."
      >
        {arranged ? <RuleTable label="Alert rules" rules={arranged.listed} canAct={canAct} canWrite={canWrite} /> : null}
      </Panel>
      {arranged && arranged.silenced.length > 0 ? (
        <Panel title="Silenced" testId="panel-alert-silenced">
          <RuleTable label="Silenced alert rules" rules={arranged.silenced} canAct={canAct} canWrite={canWrite} />
        </Panel>
      ) : null}
      <Panel
        title="History"
        testId="panel-alert-history"
        loading={history.isPending}
        error={history.error}
        empty={!!history.data && history.data.events.length === 0}
        emptyText="No alert has changed state yet."
      >
        {history.data ? (
          <DataTable label="Alert history" columns={["When", "Alert", "Subject", "State", "Value", "Threshold"]}>
            {history.data.events.map((event) => (
              <tr key={event.id}>
                <td>{when(event.at)}</td>
                <td>{event.ruleName}</td>
                <td>{event.subject}</td>
                <td className={`alert-${event.state}`}>{event.state}</td>
                <td>{formatNumber(event.value, 2)}</td>
                <td>{formatNumber(event.threshold, 2)}</td>
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
    </div>
  );
}
