"use client";
// Providers and their deployments, with the live fleet's health per deployment: circuit state
// (the card's colour), error rate, requests refused by an open circuit, last failure. Admins
// create, edit and delete providers (credentials are write-only) and test the connection.
import { useId, useState, type FormEvent } from "react";
import type { DeploymentHealthDto, ProviderDto } from "@/lib/control-plane/console/contracts";
import { formatDeployments, parseDeployments } from "@/lib/control-plane/console/deployments-text";
import { formatPercent } from "@/lib/control-plane/console/charts";
import {
  useCreateProvider,
  useDeleteProvider,
  useProviderHealth,
  useProviders,
  useTestProvider,
  useUpdateProvider,
} from "@/components/console/hooks/console";
import {
  RESPONSES_API_LABEL,
  RESPONSES_API_MODES,
  responsesApiOf,
  type ResponsesApiMode,
} from "@/lib/data-plane/providers/responses-api";
import { ConfirmDelete } from "./confirm-button";
import { LockedButton, ManagedBadge } from "./managed-badge";
import { Panel } from "./panel";
import { Can } from "./session-context";
import { FormError } from "./form-error";

function TestConnection({ provider }: { provider: ProviderDto }) {
  const test = useTestProvider();
  return (
    <span className="inline-actions">
      <button
        type="button"
        className="button secondary"
        onClick={() => test.mutate(provider.id)}
        disabled={test.isPending}
        aria-label={`Test connection of ${provider.name}`}
      >
        {test.isPending ? "Testing…" : "Test connection"}
      </button>
      <span role="status" data-testid={`test-result-${provider.name}`}>
        {test.data ? (
          test.data.ok ? (
            <span className="status-healthy">OK in {test.data.latencyMs} ms</span>
          ) : (
            <span className="status-dead">Failed: {test.data.error}</span>
          )
        ) : null}
        {test.error ? <span className="status-dead">{test.error.message}</span> : null}
      </span>
    </span>
  );
}

/** How POST /v1/responses reaches an OpenAI-compatible upstream. */
function ResponsesApiField({
  id,
  value,
  onChange,
}: {
  id: string;
  value: ResponsesApiMode;
  onChange: (mode: ResponsesApiMode) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>Responses API</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value as ResponsesApiMode)}>
        {RESPONSES_API_MODES.map((mode) => (
          <option key={mode} value={mode}>
            {RESPONSES_API_LABEL[mode]}
          </option>
        ))}
      </select>
    </div>
  );
}

function EditProvider({ provider, onDone }: { provider: ProviderDto; onDone: () => void }) {
  const update = useUpdateProvider();
  const [baseUrl, setBaseUrl] = useState(provider.baseUrl ?? "");
  const [apiKey, setApiKey] = useState("");
  const [removeKey, setRemoveKey] = useState(false);
  const [enabled, setEnabled] = useState(provider.enabled);
  const [deployments, setDeployments] = useState(formatDeployments(provider.deployments));
  const [responsesApi, setResponsesApi] = useState(responsesApiOf(provider.settings));
  const [formError, setFormError] = useState<string | null>(null);
  const ids = {
    baseUrl: useId(),
    apiKey: useId(),
    removeKey: useId(),
    enabled: useId(),
    deployments: useId(),
    responsesApi: useId(),
  };
  const isRemote = provider.kind !== "simulator";
  const speaksOpenAI = provider.kind === "openai_compatible";
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseDeployments(deployments);
    if (parsed.error) return setFormError(parsed.error);
    setFormError(null);
    update.mutate(
      {
        id: provider.id,
        change: {
          enabled,
          deployments: parsed.deployments,
          ...(isRemote && baseUrl !== provider.baseUrl ? { baseUrl } : {}),
          ...(isRemote && removeKey ? { apiKey: null } : isRemote && apiKey ? { apiKey } : {}),
          // Settings are replaced as a whole: the others go back as they are (header values stay sealed when left out).
          ...(speaksOpenAI && responsesApi !== responsesApiOf(provider.settings)
            ? { settings: { ...(provider.settings as object), responsesApi } }
            : {}),
        },
      },
      { onSuccess: onDone },
    );
  };
  return (
    <form className="form-grid" onSubmit={onSubmit} aria-label={`Edit ${provider.name}`}>
      {isRemote ? (
        <>
          <div className="field">
            <label htmlFor={ids.baseUrl}>Base URL</label>
            <input id={ids.baseUrl} type="url" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} required />
          </div>
          <div className="field">
            <label htmlFor={ids.apiKey}>New API key (leave empty to keep {provider.hasApiKey ? "the stored one" : "none"})</label>
            <input
              id={ids.apiKey}
              type="password"
              autoComplete="off"
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
              disabled={removeKey}
            />
          </div>
          {provider.hasApiKey ? (
            <div className="field checkbox">
              <input id={ids.removeKey} type="checkbox" checked={removeKey} onChange={(e) => setRemoveKey(e.target.checked)} />
              <label htmlFor={ids.removeKey}>Remove the stored API key</label>
            </div>
          ) : null}
        </>
      ) : null}
      {speaksOpenAI ? <ResponsesApiField id={ids.responsesApi} value={responsesApi} onChange={setResponsesApi} /> : null}
      <div className="field checkbox">
        <input id={ids.enabled} type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <label htmlFor={ids.enabled}>Enabled</label>
      </div>
      <div className="field wide">
        <label htmlFor={ids.deployments}>Deployments, one per line: model = upstream-model * weight</label>
        <textarea
          id={ids.deployments}
          rows={Math.max(3, provider.deployments.length + 1)}
          value={deployments}
          onChange={(e) => setDeployments(e.target.value)}
        />
      </div>
      <div className="form-actions">
        <button type="submit" className="button" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save"}
        </button>
        <button type="button" className="button secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
      <FormError error={formError ? new Error(formError) : update.error} />
    </form>
  );
}

const PROVIDER_KIND_LABEL: Record<ProviderDto["kind"], string> = {
  openai_compatible: "OpenAI-compatible",
  anthropic: "Anthropic",
  simulator: "simulator",
};

function CreateProviderForm() {
  const create = useCreateProvider();
  const [kind, setKind] = useState<"openai_compatible" | "anthropic" | "simulator">("openai_compatible");
  const [name, setName] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [deployments, setDeployments] = useState("");
  const [responsesApi, setResponsesApi] = useState<ResponsesApiMode>("translate");
  const [formError, setFormError] = useState<string | null>(null);
  const ids = { kind: useId(), name: useId(), baseUrl: useId(), apiKey: useId(), deployments: useId(), responsesApi: useId() };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseDeployments(deployments);
    if (parsed.error) return setFormError(parsed.error);
    setFormError(null);
    const input =
      kind === "openai_compatible"
        ? { kind, name, baseUrl, ...(apiKey ? { apiKey } : {}), settings: { responsesApi }, deployments: parsed.deployments }
        : kind === "anthropic"
          ? { kind, name, baseUrl, ...(apiKey ? { apiKey } : {}), deployments: parsed.deployments }
          : { kind, name, deployments: parsed.deployments };
    create.mutate(input, { onSuccess: () => (setName(""), setBaseUrl(""), setApiKey(""), setDeployments("")) });
  };
  return (
    <Panel title="Add a provider" testId="panel-create-provider">
      <form className="form-grid" onSubmit={onSubmit} aria-label="Add a provider">
        <div className="field">
          <label htmlFor={ids.kind}>Kind</label>
          <select id={ids.kind} value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
            <option value="openai_compatible">OpenAI-compatible API</option>
            <option value="anthropic">Anthropic Messages API</option>
            <option value="simulator">Built-in simulator</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.name}>Name</label>
          <input
            id={ids.name}
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,62}"
          />
        </div>
        {kind !== "simulator" ? (
          <>
            <div className="field">
              <label htmlFor={ids.baseUrl}>Base URL</label>
              <input
                id={ids.baseUrl}
                type="url"
                placeholder={kind === "anthropic" ? "https://api.anthropic.com" : "https://api.example.com/v1"}
                value={baseUrl}
                onChange={(e) => setBaseUrl(e.target.value)}
                required
              />
            </div>
            <div className="field">
              <label htmlFor={ids.apiKey}>API key (stored encrypted, never shown again)</label>
              <input
                id={ids.apiKey}
                type="password"
                autoComplete="off"
                value={apiKey}
                onChange={(e) => setApiKey(e.target.value)}
              />
            </div>
          </>
        ) : null}
        {kind === "openai_compatible" ? (
          <ResponsesApiField id={ids.responsesApi} value={responsesApi} onChange={setResponsesApi} />
        ) : null}
        <div className="field wide">
          <label htmlFor={ids.deployments}>Deployments, one per line: model = upstream-model * weight</label>
          <textarea
            id={ids.deployments}
            rows={3}
            value={deployments}
            onChange={(e) => setDeployments(e.target.value)}
            placeholder="gpt-4o = gpt-4o-2024-08-06"
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="button" disabled={create.isPending}>
            {create.isPending ? "Adding…" : "Add provider"}
          </button>
        </div>
        <FormError error={formError ? new Error(formError) : create.error} />
      </form>
    </Panel>
  );
}

/** Failure reasons (agenticorp_upstream_attempt_failures_total) in an operator's words. */
const FAILURE_REASONS: Record<string, string> = {
  auth_rejected: "credentials rejected (401/403): renew the provider's API key",
  model_not_found: "model not found upstream (404): check the upstream model",
  rate_limited: "rate limited (429)",
  server_error: "upstream error (5xx)",
  connect: "could not connect",
  timeout_connect: "connect timed out",
  timeout_first_byte: "no first byte in time",
  timeout_total: "no complete answer in time",
  protocol: "unreadable answer",
};

function LastFailure({ failure }: { failure: NonNullable<DeploymentHealthDto["lastFailure"]> }) {
  const urgent = failure.reason === "auth_rejected" || failure.reason === "model_not_found";
  return (
    <span className={urgent ? "status-dead" : undefined} title={`${failure.at} on ${failure.instanceId}`}>
      {FAILURE_REASONS[failure.reason] ?? failure.reason}
      {failure.status !== null ? ` · HTTP ${failure.status}` : ""} · {new Date(failure.at).toLocaleString()}
    </span>
  );
}

const CIRCUIT_WORDS = { closed: "closed", half_open: "half-open (trial call)", open: "open" } as const;
const SEVERITY = { closed: 0, half_open: 1, open: 2 } as const;

function DeploymentRows({ provider, health }: { provider: ProviderDto; health: Map<string, DeploymentHealthDto> }) {
  if (provider.deployments.length === 0) return <p className="muted">No deployment: this provider serves no model.</p>;
  return (
    <div className="table-wrap">
      <table aria-label={`Deployments of ${provider.name}`}>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Upstream model</th>
            <th scope="col">Weight</th>
            <th scope="col">Circuit</th>
            <th scope="col">Attempts</th>
            <th scope="col">Error rate</th>
            <th scope="col">Refused by open circuit</th>
            <th scope="col">Mean latency</th>
            <th scope="col">Last failure</th>
          </tr>
        </thead>
        <tbody>
          {provider.deployments.map((d) => {
            const h = health.get(d.id);
            return (
              <tr key={d.id} data-deployment={`${d.modelName}/${d.upstreamModel}`}>
                <td>{d.modelName}</td>
                <td>{d.upstreamModel}</td>
                <td>{d.weight}</td>
                <td className={h ? `circuit-${h.circuit}` : undefined} data-testid="circuit">
                  {h ? CIRCUIT_WORDS[h.circuit] : "—"}
                  {h && h.openOn > 0 ? (
                    <span className="muted">
                      {" "}
                      on {h.openOn} instance{h.openOn === 1 ? "" : "s"}
                    </span>
                  ) : null}
                </td>
                <td>{h ? h.attempts : "—"}</td>
                <td className={h && h.errorRate !== null && h.errorRate > 0 ? "status-dead" : undefined} data-testid="error-rate">
                  {h?.errorRate == null ? "—" : `${formatPercent(h.errorRate)} (${h.failures})`}
                </td>
                <td className={h && h.refusedByCircuit > 0 ? "status-dead" : undefined} data-testid="refused">
                  {h ? h.refusedByCircuit : "—"}
                </td>
                <td>
                  {h?.meanLatencyMs == null
                    ? "—"
                    : `${h.meanLatencyMs < 10 ? h.meanLatencyMs.toFixed(1) : Math.round(h.meanLatencyMs)} ms`}
                </td>
                <td data-testid="last-failure">{h?.lastFailure ? <LastFailure failure={h.lastFailure} /> : "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The card's state: disabled, else the worst circuit of its deployments across the fleet. */
function providerState(provider: ProviderDto, health: Map<string, DeploymentHealthDto>): "disabled" | keyof typeof SEVERITY {
  if (!provider.enabled) return "disabled";
  let worst: keyof typeof SEVERITY = "closed";
  for (const d of provider.deployments) {
    const circuit = health.get(d.id)?.circuit ?? "closed";
    if (SEVERITY[circuit] > SEVERITY[worst]) worst = circuit;
  }
  return worst;
}

const STATE_WORDS = {
  disabled: "disabled",
  closed: "serving",
  half_open: "recovering: trial call",
  open: "failing: circuit open",
} as const;

function DeleteProvider({ provider }: { provider: ProviderDto }) {
  const remove = useDeleteProvider();
  return (
    <ConfirmDelete
      kind="provider"
      name={provider.name}
      id={provider.id}
      message={
        <p>
          Its {provider.deployments.length} deployment(s) are deleted with it. A provider still serving traffic must be disabled
          first.
        </p>
      }
      remove={remove}
    />
  );
}

function ProviderCard({ provider, health }: { provider: ProviderDto; health: Map<string, DeploymentHealthDto> }) {
  const [editing, setEditing] = useState(false);
  const state = providerState(provider, health);
  return (
    <Panel
      title={provider.name}
      testId={`provider-${provider.name}`}
      className={`provider-card provider-${state}`}
      actions={
        <Can scope="providers.write">
          <TestConnection provider={provider} />
          {provider.managedBy ? (
            <>
              <LockedButton label={`Edit ${provider.name}`}>Edit</LockedButton>
              <LockedButton label={`Delete ${provider.name}`}>Delete</LockedButton>
            </>
          ) : (
            <>
              {!editing ? (
                <button
                  type="button"
                  className="button secondary"
                  onClick={() => setEditing(true)}
                  aria-label={`Edit ${provider.name}`}
                >
                  Edit
                </button>
              ) : null}
              <DeleteProvider provider={provider} />
            </>
          )}
        </Can>
      }
    >
      <p className="meta">
        <span className="pill">{PROVIDER_KIND_LABEL[provider.kind]}</span> {provider.managedBy ? <ManagedBadge /> : null}{" "}
        <span className={`provider-state provider-state-${state}`} data-testid="provider-state">
          {STATE_WORDS[state]}
        </span>
        {provider.baseUrl ? <span className="muted"> · {provider.baseUrl}</span> : null}
        {provider.kind !== "simulator" ? (
          <span className="muted"> · API key {provider.hasApiKey ? "stored" : "not set"}</span>
        ) : null}
        {provider.headerNames.length > 0 ? (
          <span className="muted"> · headers set (values hidden): {provider.headerNames.join(", ")}</span>
        ) : null}
        {provider.kind === "openai_compatible" ? (
          <span className="muted"> · Responses API: {RESPONSES_API_LABEL[responsesApiOf(provider.settings)]}</span>
        ) : null}
      </p>
      {editing ? (
        <EditProvider provider={provider} onDone={() => setEditing(false)} />
      ) : (
        <DeploymentRows provider={provider} health={health} />
      )}
    </Panel>
  );
}

export function ProvidersView() {
  const providers = useProviders();
  const health = useProviderHealth();
  const byDeployment = new Map((health.data?.deployments ?? []).map((d) => [d.deploymentId, d]));
  const list = providers.data?.providers;
  return (
    <div className="page">
      <div className="page-header">
        <h1>Providers</h1>
        {health.data ? (
          <span className="badge" title={health.data.instances.join(", ")}>
            Health merged from {health.data.instances.length} live instance{health.data.instances.length === 1 ? "" : "s"},
            counted since each started
          </span>
        ) : null}
      </div>
      {health.error ? <p className="state state-error">Deployment health unavailable: {health.error.message}</p> : null}
      <Can scope="providers.write">
        <CreateProviderForm />
      </Can>
      {providers.isPending || providers.error || (list && list.length === 0) ? (
        <Panel
          title="Providers"
          loading={providers.isPending}
          error={providers.error}
          empty={!!list && list.length === 0}
          emptyText="No provider configured."
        />
      ) : null}
      {list?.map((provider) => (
        <ProviderCard key={provider.id} provider={provider} health={byDeployment} />
      ))}
    </div>
  );
}
