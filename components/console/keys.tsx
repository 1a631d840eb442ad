"use client";
// API keys: the list with limits, this minute's use and when each was last used; allowed model
// names no deployment serves are flagged. Admins create keys (the value is shown once) and revoke them.
import { useId, useState, type FormEvent } from "react";
import type { ApiKeyDto } from "@/lib/control-plane/console/contracts";
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from "@/components/console/hooks/console";
import { useSetKeyCapture } from "@/components/console/hooks/requests";
import { Panel } from "./panel";
import { Can, useCan } from "./session-context";
import { CopyButton } from "./copy-button";
import { FormError, splitList } from "./form-error";
import { NumberTextField } from "./number-text-field";
import { DataTable } from "./data-table";

function CreateKeyForm() {
  const create = useCreateApiKey();
  const [name, setName] = useState("");
  const [rpm, setRpm] = useState("");
  const [models, setModels] = useState("");
  const ids = { name: useId(), models: useId() };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name, rpmLimit: rpm.trim() === "" ? null : Number(rpm), allowedModels: splitList(models) },
      { onSuccess: () => (setName(""), setRpm(""), setModels("")) },
    );
  };
  return (
    <Panel title="Create a key" testId="panel-create-key">
      <form className="form-row" onSubmit={onSubmit} aria-label="Create an API key">
        <div className="field">
          <label htmlFor={ids.name}>Name</label>
          <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} />
        </div>
        <NumberTextField
          label="Requests per minute (empty: no limit)"
          value={rpm}
          onChange={setRpm}
          min={1}
          inputMode="numeric"
        />
        <div className="field grow">
          <label htmlFor={ids.models}>Allowed models (comma-separated; empty: all)</label>
          <input id={ids.models} value={models} onChange={(e) => setModels(e.target.value)} />
        </div>
        <button type="submit" className="button" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create key"}
        </button>
      </form>
      <FormError error={create.error} />
      {create.data ? (
        <div className="secret-once" role="status" data-testid="new-key">
          <p>
            <strong>Copy the key for “{create.data.record.name}” now.</strong> It is shown only this once; only its hash is
            stored.
          </p>
          {create.data.record.unknownModels.length > 0 ? (
            <p className="warning-text" role="alert">
              No deployment serves {create.data.record.unknownModels.map((m) => `“${m}”`).join(", ")}: requests for it fail with
              model_not_found. Check the spelling, or add a deployment.
            </p>
          ) : null}
          <div className="secret-row">
            <code data-testid="new-key-value">{create.data.key}</code>
            <CopyButton value={create.data.key} label="Copy key" />
            <button type="button" className="button secondary" onClick={() => create.reset()}>
              Done
            </button>
          </div>
        </div>
      ) : null}
    </Panel>
  );
}

function AllowedModels({ apiKey }: { apiKey: ApiKeyDto }) {
  if (apiKey.allowedModels.length === 0) return <>all</>;
  const unknown = new Set(apiKey.unknownModels);
  return (
    <>
      {apiKey.allowedModels.map((model, i) => (
        <span key={model}>
          {i > 0 ? ", " : null}
          {unknown.has(model) ? (
            <span className="warning-text" title="No deployment serves this model name" data-testid="unknown-model">
              {model} (unknown)
            </span>
          ) : (
            model
          )}
        </span>
      ))}
    </>
  );
}

/** "3 min ago", with the exact time on hover. */
function LastUsed({ at }: { at: string | null }) {
  if (!at) return <span className="muted">never</span>;
  // eslint-disable-next-line react-hooks/purity -- an age label: recomputed whenever the list refetches and re-renders
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(at)) / 1000));
  const ago =
    seconds < 60
      ? `${seconds} s ago`
      : seconds < 3_600
        ? `${Math.round(seconds / 60)} min ago`
        : seconds < 172_800
          ? `${Math.round(seconds / 3_600)} h ago`
          : new Date(at).toLocaleDateString();
  return (
    <time dateTime={at} title={new Date(at).toLocaleString()}>
      {ago}
    </time>
  );
}

function RevokeButton({ apiKey }: { apiKey: ApiKeyDto }) {
  const revoke = useRevokeApiKey();
  const [confirming, setConfirming] = useState(false);
  if (apiKey.revokedAt) return null;
  return (
    <span className="inline-actions">
      {confirming ? (
        <>
          <button
            type="button"
            className="button danger"
            onClick={() => revoke.mutate(apiKey.id)}
            disabled={revoke.isPending}
            aria-label={`Confirm revoking ${apiKey.name}`}
          >
            {revoke.isPending ? "Revoking…" : "Confirm revoke"}
          </button>
          <button type="button" className="button secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </>
      ) : (
        <button
          type="button"
          className="button secondary"
          onClick={() => setConfirming(true)}
          aria-label={`Revoke ${apiKey.name}`}
        >
          Revoke
        </button>
      )}
      {revoke.error ? (
        <span className="error-text" role="alert">
          {revoke.error.message}
        </span>
      ) : null}
    </span>
  );
}

/** Whether the request log stores this key's prompt and response bodies (shown to admins only). */
function CaptureToggle({ apiKey }: { apiKey: ApiKeyDto }) {
  const capture = useSetKeyCapture();
  return (
    <span className="inline-actions">
      <label className="field checkbox">
        <input
          type="checkbox"
          checked={apiKey.captureBodies}
          disabled={capture.isPending}
          onChange={(e) => capture.mutate({ id: apiKey.id, captureBodies: e.target.checked })}
          aria-label={`Log the bodies of ${apiKey.name}'s requests`}
        />
        {apiKey.captureBodies ? "yes" : "no"}
      </label>
      {capture.error ? (
        <span className="error-text" role="alert">
          {capture.error.message}
        </span>
      ) : null}
    </span>
  );
}

export function KeysView() {
  const keys = useApiKeys();
  const canWrite = useCan("keys.write");
  const data = keys.data?.keys;
  return (
    <div className="page">
      <div className="page-header">
        <h1>API keys</h1>
      </div>
      <Can scope="keys.write">
        <CreateKeyForm />
      </Can>
      <Panel
        title="Keys"
        testId="panel-keys"
        loading={keys.isPending}
        error={keys.error}
        empty={!!data && data.length === 0}
        emptyText="No API key yet."
      >
        {data ? (
          <DataTable
            label="API keys"
            columns={[
              "Name",
              "Key",
              "Limit",
              "Used this minute",
              "Last used",
              "Models",
              "Bodies logged",
              "Created",
              "Status",
              canWrite ? "Actions" : null,
            ]}
          >
            {data.map((k) => (
              <tr key={k.id} data-key-id={k.id} data-key-name={k.name}>
                <td>{k.name}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.rpmLimit === null ? "none" : `${k.rpmLimit}/min`}</td>
                <td>
                  {k.usedThisMinute === null
                    ? "—"
                    : k.rpmLimit
                      ? `${k.usedThisMinute} (${Math.round((k.usedThisMinute / k.rpmLimit) * 100)}%)`
                      : k.usedThisMinute}
                </td>
                <td>
                  <LastUsed at={k.lastUsedAt} />
                </td>
                <td>
                  <AllowedModels apiKey={k} />
                </td>
                <td>{canWrite && !k.revokedAt ? <CaptureToggle apiKey={k} /> : k.captureBodies ? "yes" : "no"}</td>
                <td>{new Date(k.createdAt).toLocaleString()}</td>
                <td data-testid="key-status" className={k.revokedAt ? "status-dead" : "status-healthy"}>
                  {k.revokedAt ? "revoked" : "active"}
                </td>
                {canWrite ? (
                  <td>
                    <RevokeButton apiKey={k} />
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
    </div>
  );
}
