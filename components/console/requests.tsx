"use client";
// The request log: filter kept requests by key, model, status and time, open one by the
// x-request-id a client reports (also at /requests/<id>), and — for admins — the sampling settings.
// Captured bodies show only to admins (requests.bodies); the server leaves them out for others.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useId, useState, type FormEvent } from "react";
import type {
  RequestLogEntryDto,
  RequestLogDetailResponse,
  RequestLogSettingsDto,
} from "@/lib/control-plane/console/request-log-contracts";
import { REQUEST_ID } from "@/lib/control-plane/console/request-log-contracts";
import { useApiKeys } from "@/components/console/hooks/console";
import {
  useRequestById,
  useRequestLog,
  useRequestLogSettings,
  useSaveRequestLogSettings,
} from "@/components/console/hooks/requests";
import { Panel } from "./panel";
import { DataTable } from "./data-table";
import { Can, useCan } from "./session-context";
import { FormError } from "./form-error";
import { NumberTextField } from "./number-text-field";
import { Pager } from "./pager";

const STATUS_CHOICES: Array<[string, string]> = [
  ["", "Any status"],
  ["error", "Errors (4xx and 5xx)"],
  ["2xx", "2xx"],
  ["4xx", "4xx"],
  ["5xx", "5xx"],
  ["429", "429 rate limited"],
  ["499", "499 client left"],
  ["502", "502 upstream failed"],
  ["504", "504 upstream timeout"],
];

const ms = (value: number | null) =>
  value === null ? "—" : value >= 1_000 ? `${(value / 1_000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
const usd = (value: number | null) => (value === null ? "—" : `$${value < 0.01 ? value.toFixed(6) : value.toFixed(4)}`);
const tokens = (entry: RequestLogEntryDto) =>
  entry.promptTokens === null && entry.completionTokens === null
    ? "—"
    : `${entry.promptTokens ?? 0} → ${entry.completionTokens ?? 0}`;
const percent = (rate: number) => `${Math.round(rate * 10_000) / 100}%`;
/** A datetime-local value (the browser's zone) as ISO 8601, or undefined when empty. */
const isoFrom = (local: string) => (local ? new Date(local).toISOString() : undefined);

function StatusBadge({ status }: { status: number }) {
  return (
    <span className={`badge ${status >= 500 ? "status-dead" : status >= 400 ? "warning-text" : "status-healthy"}`}>{status}</span>
  );
}

/** The request id box: opens /requests/<id>. */
function FindRequest() {
  const router = useRouter();
  const [id, setId] = useState("");
  const inputId = useId();
  const valid = REQUEST_ID.test(id.trim());
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (valid) router.push(`/requests/${encodeURIComponent(id.trim())}`);
  };
  return (
    <form className="form-row" role="search" aria-label="Open a request by its id" onSubmit={onSubmit}>
      <div className="field grow">
        <label htmlFor={inputId}>Request id (the x-request-id header a client got back)</label>
        <input id={inputId} value={id} onChange={(e) => setId(e.target.value)} placeholder="e.g. 0f8c…" spellCheck={false} />
      </div>
      <button type="submit" className="button" disabled={!valid}>
        Open
      </button>
    </form>
  );
}

function SettingsPanel() {
  const settings = useRequestLogSettings();
  const data = settings.data;
  return (
    <Panel title="Sampling" testId="panel-request-log-settings" loading={settings.isPending} error={settings.error}>
      {data ? (
        <>
          <p data-testid="request-log-settings-summary">
            {data.enabled ? (
              <>
                Every error and every request slower than <strong>{ms(data.slowMs)}</strong> is kept; successful, faster ones at{" "}
                <strong>{percent(data.sampleRate)}</strong>. Kept {data.retentionDays} days. Bodies only for keys with capture on
                (API keys page), cut to {data.bodyMaxBytes.toLocaleString()} bytes each.
              </>
            ) : (
              <>The request log is off on this instance (REQUEST_LOG=off).</>
            )}
          </p>
          <Can scope="requests.write">
            <SettingsForm key={data.updatedAt ?? "defaults"} settings={data} />
          </Can>
        </>
      ) : null}
    </Panel>
  );
}

function SettingsForm({ settings }: { settings: RequestLogSettingsDto }) {
  const save = useSaveRequestLogSettings();
  const [rate, setRate] = useState(settings.set.sampleRate === null ? "" : String(settings.set.sampleRate * 100));
  const [slow, setSlow] = useState(settings.set.slowMs === null ? "" : String(settings.set.slowMs));
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ sampleRate: rate.trim() === "" ? null : Number(rate) / 100, slowMs: slow.trim() === "" ? null : Number(slow) });
  };
  return (
    <form className="form-row" aria-label="Request log sampling" onSubmit={onSubmit}>
      <NumberTextField
        label={<>Successes kept, % (empty: {percent(settings.defaults.sampleRate)})</>}
        value={rate}
        onChange={setRate}
        min={0}
        max={100}
        step="any"
      />
      <NumberTextField
        label={<>Slow from, ms (empty: {settings.defaults.slowMs})</>}
        value={slow}
        onChange={setSlow}
        min={1}
        step={1}
      />
      <button type="submit" className="button" disabled={save.isPending}>
        {save.isPending ? "Saving…" : "Save"}
      </button>
      <FormError error={save.error} />
      {settings.updatedBy ? <span className="muted small">Last changed by {settings.updatedBy}</span> : null}
    </form>
  );
}

function EntryRow({ entry }: { entry: RequestLogEntryDto }) {
  return (
    <tr data-request-id={entry.requestId} data-status={entry.status}>
      <td>
        <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time>
      </td>
      <td>
        <Link href={`/requests/${encodeURIComponent(entry.requestId)}`} prefetch={false}>
          <code>{entry.requestId}</code>
        </Link>
      </td>
      <td>{entry.keyName ?? <span className="muted">no key</span>}</td>
      <td>{entry.endpoint}</td>
      <td>{entry.model ?? <span className="muted">—</span>}</td>
      <td>
        <StatusBadge status={entry.status} />
        {entry.errorCode ? <div className="muted small">{entry.errorCode}</div> : null}
      </td>
      <td>{ms(entry.durationMs)}</td>
      <td>
        {entry.attempts.length}
        {entry.fallbacks > 0 ? (
          <span className="muted small">
            {" "}
            ({entry.fallbacks} fallback{entry.fallbacks > 1 ? "s" : ""})
          </span>
        ) : null}
      </td>
      <td>{entry.cache ?? "—"}</td>
      <td>{tokens(entry)}</td>
      <td>{usd(entry.costUsd)}</td>
      <td>
        <span className="pill">{entry.keptBecause}</span>
      </td>
    </tr>
  );
}

export function RequestsView() {
  const keys = useApiKeys();
  const [keyId, setKeyId] = useState("");
  const [model, setModel] = useState("");
  const [status, setStatus] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [pages, setPages] = useState<string[]>([]);
  const before = pages[pages.length - 1];
  const log = useRequestLog({ keyId, model: model.trim(), status, from: isoFrom(from), to: isoFrom(to), before, limit: 50 });
  const ids = { key: useId(), model: useId(), status: useId(), from: useId(), to: useId() };
  const changed =
    <T,>(set: (value: T) => void) =>
    (value: T) => (set(value), setPages([]));
  const entries = log.data?.entries;
  return (
    <div className="page">
      <div className="page-header">
        <h1>Requests</h1>
      </div>
      <Panel title="Find a request" testId="panel-find-request">
        <FindRequest />
      </Panel>
      <form className="form-row filters" role="search" aria-label="Filter the request log" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor={ids.key}>Key</label>
          <select id={ids.key} value={keyId} onChange={(e) => changed(setKeyId)(e.target.value)}>
            <option value="">All keys</option>
            {keys.data?.keys.map((k) => (
              <option key={k.id} value={k.id}>
                {k.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.model}>Model</label>
          <input id={ids.model} type="search" value={model} onChange={(e) => changed(setModel)(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.status}>Status</label>
          <select id={ids.status} value={status} onChange={(e) => changed(setStatus)(e.target.value)}>
            {STATUS_CHOICES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.from}>From</label>
          <input id={ids.from} type="datetime-local" value={from} onChange={(e) => changed(setFrom)(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.to}>To</label>
          <input id={ids.to} type="datetime-local" value={to} onChange={(e) => changed(setTo)(e.target.value)} />
        </div>
      </form>
      <Panel
        title="Kept requests"
        testId="panel-requests"
        loading={log.isPending}
        error={log.error}
        empty={!!entries && entries.length === 0}
        emptyText="No kept request matches."
      >
        {entries ? (
          <>
            <DataTable
              label="Request log"
              columns={[
                "When",
                "Request id",
                "Key",
                "Endpoint",
                "Model",
                "Status",
                "Duration",
                "Attempts",
                "Cache",
                "Tokens",
                "Cost",
                "Kept as",
              ]}
            >
              {entries.map((entry) => (
                <EntryRow key={entry.id} entry={entry} />
              ))}
            </DataTable>
            <Pager pages={pages} setPages={setPages} next={log.data?.nextBefore} />
          </>
        ) : null}
      </Panel>
      <SettingsPanel />
    </div>
  );
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Bodies({ entry }: { entry: RequestLogDetailResponse["entries"][number] }) {
  const canSee = useCan("requests.bodies");
  if (!entry.captured) return <p className="muted">Bodies not captured (capture is off for this key).</p>;
  if (!entry.bodies || !canSee) return <p className="muted">Bodies were captured; only admins see them.</p>;
  return (
    <div className="diff" data-testid="request-bodies">
      <div>
        <h3>Request</h3>
        <pre className="json">{entry.bodies.request ?? "—"}</pre>
      </div>
      <div>
        <h3>Response</h3>
        <pre className="json">{entry.bodies.response ?? "—"}</pre>
      </div>
    </div>
  );
}

function EntryDetail({ entry }: { entry: RequestLogDetailResponse["entries"][number] }) {
  return (
    <Panel title={`${entry.endpoint} · ${new Date(entry.at).toLocaleString()}`} testId="request-entry">
      <dl className="facts" data-testid="request-facts">
        <Field label="Status">
          <StatusBadge status={entry.status} /> {entry.errorCode ? <code>{entry.errorCode}</code> : null}
        </Field>
        {entry.errorMessage ? <Field label="Error">{entry.errorMessage}</Field> : null}
        <Field label="Key">{entry.keyName ?? "not recognised"}</Field>
        <Field label="Model">{entry.model ?? "—"}</Field>
        <Field label="Streamed">{entry.stream ? "yes" : "no"}</Field>
        <Field label="Duration">{ms(entry.durationMs)}</Field>
        <Field label="Gateway overhead">{ms(entry.overheadMs)}</Field>
        <Field label="Retries / fallbacks">
          {entry.retries} / {entry.fallbacks}
        </Field>
        <Field label="Cache">{entry.cache ?? "—"}</Field>
        <Field label="Tokens (prompt → completion)">{tokens(entry)}</Field>
        <Field label="Cost">{usd(entry.costUsd)}</Field>
        <Field label="Client address">{entry.clientIp ?? "—"}</Field>
        <Field label="Instance">{entry.instanceId}</Field>
        <Field label="Kept as">{entry.keptBecause}</Field>
      </dl>
      <h3>Attempts</h3>
      {entry.attempts.length === 0 ? (
        <p className="muted">No upstream was asked.</p>
      ) : (
        <DataTable label="Upstream attempts" columns={["#", "Deployment", "Outcome", "Upstream status", "Latency"]}>
          {entry.attempts.map((attempt, i) => (
            <tr key={i} data-attempt-outcome={attempt.outcome}>
              <td>{i + 1}</td>
              <td>{attempt.deployment}</td>
              <td>{attempt.outcome}</td>
              <td>{attempt.status ?? "—"}</td>
              <td>{ms(attempt.latencyMs)}</td>
            </tr>
          ))}
        </DataTable>
      )}
      <h3>Bodies</h3>
      <Bodies entry={entry} />
    </Panel>
  );
}

export function RequestDetailView({ requestId }: { requestId: string }) {
  const found = useRequestById(requestId);
  const settings = useRequestLogSettings();
  const entries = found.data?.entries;
  return (
    <div className="page">
      <div className="page-header">
        <h1>
          Request <code data-testid="request-id">{requestId}</code>
        </h1>
        <Link href="/requests" prefetch={false} className="button secondary">
          All requests
        </Link>
      </div>
      {found.isPending || found.error || !entries || entries.length === 0 ? (
        <Panel title="Not found" testId="request-not-found" loading={found.isPending} error={found.error}>
          <p>
            No entry for this request id (yet). Errors and slow requests are always kept; successful ones only when sampled
            {settings.data ? ` (${percent(settings.data.sampleRate)})` : ""}. Entries appear within about a second and are kept
            {settings.data ? ` ${settings.data.retentionDays} days` : " for the configured time"}.
          </p>
        </Panel>
      ) : (
        entries.map((entry) => <EntryDetail key={entry.id} entry={entry} />)
      )}
    </div>
  );
}
