"use client";
// The audit log: every change, who made it, and the state before → after; filter and page back.
import { useId, useState } from "react";
import { AUDIT_ACTIONS, type AuditEntryDto } from "@/lib/control-plane/console/contracts";
import { useAuditLog } from "@/components/console/hooks/console";
import { Panel } from "./panel";
import { DataTable } from "./data-table";
import { Pager } from "./pager";

function Json({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

function EntryRow({ entry }: { entry: AuditEntryDto }) {
  return (
    <tr data-audit-action={entry.action} data-audit-target={entry.targetId ?? ""}>
      <td>{new Date(entry.at).toLocaleString()}</td>
      <td>{entry.actorEmail}</td>
      <td>
        <code>{entry.action}</code>
      </td>
      <td>
        {entry.targetType}
        {entry.targetId ? <div className="muted small">{entry.targetId}</div> : null}
      </td>
      <td>
        <details>
          <summary>Before → after</summary>
          <div className="diff">
            <Json value={entry.before} />
            <Json value={entry.after} />
          </div>
        </details>
      </td>
    </tr>
  );
}

export function AuditView() {
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [pages, setPages] = useState<string[]>([]);
  const before = pages[pages.length - 1];
  const log = useAuditLog({ action, actor, before, limit: 50 });
  const ids = { action: useId(), actor: useId() };
  const entries = log.data?.entries;
  const resetPaging = () => setPages([]);
  return (
    <div className="page">
      <div className="page-header">
        <h1>Audit log</h1>
      </div>
      <form className="form-row filters" role="search" aria-label="Filter the audit log" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={ids.action}>Action</label>
          <select id={ids.action} value={action} onChange={(e) => (setAction(e.target.value), resetPaging())}>
            <option value="">All actions</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor={ids.actor}>Who (email contains)</label>
          <input id={ids.actor} type="search" value={actor} onChange={(e) => (setActor(e.target.value), resetPaging())} />
        </div>
      </form>
      <Panel
        title="Changes"
        testId="panel-audit"
        loading={log.isPending}
        error={log.error}
        empty={!!entries && entries.length === 0}
        emptyText="No change matches."
      >
        {entries ? (
          <>
            <DataTable label="Audit log" columns={["When", "Who", "Action", "Target", "Change"]}>
              {entries.map((entry) => (
                <EntryRow key={entry.id} entry={entry} />
              ))}
            </DataTable>
            <Pager pages={pages} setPages={setPages} next={log.data?.nextBefore} />
          </>
        ) : null}
      </Panel>
    </div>
  );
}
