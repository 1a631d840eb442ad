"use client";
// Alert rules with their current state (admins edit thresholds and switches) and the history of
// state changes.
import { useId, useState, type FormEvent } from "react";
import type { AlertRuleDto } from "@/lib/console/contracts";
import { formatNumber } from "@/lib/console/charts";
import { useAlertHistory, useAlertRules, useUpdateAlertRule } from "@/lib/console/hooks";
import { Panel } from "./panel";
import { useCan } from "./session-context";
import { FormError } from "./form-error";
import { DataTable } from "./data-table";

function RuleEditor({ rule }: { rule: AlertRuleDto }) {
  const update = useUpdateAlertRule();
  const [threshold, setThreshold] = useState(String(rule.threshold));
  const [forSeconds, setForSeconds] = useState(String(rule.forSeconds));
  const [enabled, setEnabled] = useState(rule.enabled);
  const ids = { threshold: useId(), forSeconds: useId(), enabled: useId() };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    // Only what changed: an untouched threshold on the instance-count rule keeps following the policy.
    const change = {
      ...(Number(threshold) !== rule.threshold ? { threshold: Number(threshold) } : {}),
      ...(Number(forSeconds) !== rule.forSeconds ? { forSeconds: Number(forSeconds) } : {}),
      ...(enabled !== rule.enabled ? { enabled } : {}),
    };
    if (Object.keys(change).length > 0) update.mutate({ id: rule.id, change });
  };
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label={`Edit ${rule.name}`}>
      <label htmlFor={ids.threshold}>Threshold</label>
      <input id={ids.threshold} type="number" step="any" min={0} value={threshold} onChange={(e) => setThreshold(e.target.value)} required className="narrow" />
      <label htmlFor={ids.forSeconds}>For (s)</label>
      <input id={ids.forSeconds} type="number" min={0} max={86400} step={1} value={forSeconds} onChange={(e) => setForSeconds(e.target.value)} required className="narrow" />
      <input id={ids.enabled} type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
      <label htmlFor={ids.enabled}>Enabled</label>
      <button type="submit" className="button secondary" disabled={update.isPending}>
        {update.isPending ? "Saving…" : "Save"}
      </button>
      {update.isSuccess ? <span role="status">Saved</span> : null}
      <FormError error={update.error} />
    </form>
  );
}

export function AlertsView() {
  const rules = useAlertRules();
  const history = useAlertHistory(100);
  const canWrite = useCan("alerts.write");
  const list = rules.data?.rules;
  return (
    <div className="page">
      <div className="page-header">
        <h1>Alerts</h1>
      </div>
      <Panel title="Rules" testId="panel-alert-rules" loading={rules.isPending} error={rules.error} empty={!!list && list.length === 0} emptyText="No alert rule.">
        {list ? (
          <DataTable label="Alert rules" columns={["Rule", "Condition", "State", canWrite ? "Change" : null]}>
            {list.map((rule) => (
              <tr key={rule.id} data-rule-id={rule.id}>
                <td>
                  <strong>{rule.name}</strong> <span className={`pill severity-${rule.severity}`}>{rule.severity}</span>
                  <div className="muted small">{rule.description}</div>
                </td>
                <td>
                  {rule.metric.replaceAll("_", " ")} {rule.comparison} <strong>{formatNumber(rule.threshold, 2)}</strong>
                  {rule.thresholdFromPolicy ? <span className="muted"> (scaling policy minimum)</span> : null}
                  <div className="muted small">
                    for {rule.forSeconds}s, averaged over {rule.windowSeconds}s
                  </div>
                </td>
                <td className={`alert-${rule.state}`}>
                  {rule.enabled ? rule.state : "disabled"}
                  {rule.activeSubjects.length > 0 ? <div className="muted small">{rule.activeSubjects.map((s) => `${s.subject}: ${s.status}`).join(", ")}</div> : null}
                </td>
                {canWrite ? (
                  <td>
                    <RuleEditor rule={rule} />
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
      <Panel title="History" testId="panel-alert-history" loading={history.isPending} error={history.error} empty={!!history.data && history.data.events.length === 0} emptyText="No alert has changed state yet.">
        {history.data ? (
          <DataTable label="Alert history" columns={["When", "Rule", "Subject", "State", "Value", "Threshold"]}>
            {history.data.events.map((event) => (
              <tr key={event.id}>
                <td>{new Date(event.at).toLocaleString()}</td>
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
