"use client";
// The Scaling page: the active policy and what the leader decides under it (in words and over
// time), the HPA it renders to, the other policies (admins switch, after seeing what changes and
// saying why, save their own with a form, delete custom ones), the policy history, and the simulator.
import { useId, useMemo, useState, type FormEvent } from "react";
import { RANGES, type RangeKey } from "@/lib/control-plane/console/contracts";
import { RANGE_SPECS } from "@/lib/control-plane/console/ranges";
import { toChartData } from "@/lib/control-plane/console/charts";
import type { PolicyDto, ScalingResponse } from "@/lib/control-plane/scaling/contracts";
import { useActivatePolicy, useDeletePolicy, useScaling, useSimulation } from "@/components/console/hooks/scaling";
import { diffPolicies } from "@/lib/control-plane/scaling/policies";
import {
  decisionPredatesSwitch,
  formatCount,
  formatUsd,
  simulationCoverage,
  simulationSeries,
} from "@/lib/control-plane/scaling/views";
import { TimeSeriesChart } from "./charts";
import { ConfirmDelete } from "./confirm-button";
import { LockedButton, ManagedBadge } from "./managed-badge";
import { CopyButton } from "./copy-button";
import { PolicyForm } from "./policy-form";
import { FormError } from "./form-error";
import { Panel, Stat } from "./panel";
import { Can, useCan } from "./session-context";
import { DataTable } from "./data-table";

const TARGETS: Record<ScalingResponse["target"], string> = {
  none: "none (recommend only)",
  local: "local cluster runner",
  kubernetes: "Kubernetes HPA",
};

function Fields({ policy }: { policy: PolicyDto }) {
  return (
    <table aria-label={`Policy ${policy.name}`}>
      <tbody>
        {policy.fields.map(([field, value]) => (
          <tr key={field}>
            <th scope="row">{field}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function SwitchPolicy({ active, policy }: { active: PolicyDto | null; policy: PolicyDto }) {
  const activate = useActivatePolicy();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const reasonId = useId();
  if (!policy.spec) return <span className="muted small">not valid: {policy.error}</span>;
  const changes = diffPolicies(active?.spec ?? null, policy.spec);
  if (!open) {
    return (
      <button type="button" className="button secondary" onClick={() => setOpen(true)} aria-label={`Switch to ${policy.name}`}>
        Switch to {policy.name}
      </button>
    );
  }
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    activate.mutate({ name: policy.name, reason }, { onSuccess: () => (setOpen(false), setReason("")) });
  };
  return (
    <form
      className="diff"
      onSubmit={onSubmit}
      aria-label={`Confirm switching to ${policy.name}`}
      data-testid="switch-confirmation"
    >
      <p>
        Switch from <strong>{active?.name ?? "no policy"}</strong> to <strong>{policy.name}</strong>. What changes:
      </p>
      <table aria-label="What changes">
        <thead>
          <tr>
            <th scope="col">Setting</th>
            <th scope="col">Now</th>
            <th scope="col">After</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr key={c.field}>
              <th scope="row">{c.field}</th>
              <td>{c.before}</td>
              <td>{c.after}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="field">
        <label htmlFor={reasonId}>Reason (kept in the audit log)</label>
        <input id={reasonId} value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} />
      </div>
      <div className="form-actions">
        <button type="submit" className="button" disabled={activate.isPending}>
          {activate.isPending ? "Switching…" : `Switch to ${policy.name}`}
        </button>
        <button type="button" className="button secondary" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
      <FormError error={activate.error} />
    </form>
  );
}

function DeletePolicy({ policy }: { policy: PolicyDto }) {
  const remove = useDeletePolicy();
  return (
    <ConfirmDelete
      kind="policy"
      name={policy.name}
      id={policy.id}
      message={<p>The audit log keeps what it was; its policy history goes with it.</p>}
      remove={remove}
    />
  );
}

function Simulator() {
  const [hours, setHours] = useState(24);
  const simulation = useSimulation(hours);
  const id = useId();
  const chart = useMemo(() => (simulation.data ? toChartData(simulationSeries(simulation.data)) : null), [simulation.data]);
  const data = simulation.data;
  return (
    <Panel
      title="Policy simulator"
      testId="panel-simulator"
      loading={simulation.isPending}
      error={simulation.error}
      empty={!!data && data.recordedMinutes === 0}
      emptyText="No recorded load in this window yet: the simulator replays what the instances measured."
      actions={
        <span className="range-selector">
          <label htmlFor={id}>Replay</label>
          <select id={id} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
            {[6, 24, 72, 168].map((h) => (
              <option key={h} value={h}>
                last {h < 48 ? `${h} hours` : `${h / 24} days`}
              </option>
            ))}
          </select>
        </span>
      }
    >
      {data && chart ? (
        <>
          <p className="muted small">
            The recorded load (<span data-testid="simulator-coverage">{simulationCoverage(data)}</span>) replayed through each
            policy&apos;s HorizontalPodAutoscaler, deciding every 15 s; new instances serve after 30 s. Cost covers the replayed
            minutes only, at {formatUsd(data.instanceMonthlyCostUsd)} per instance-month.
          </p>
          <TimeSeriesChart
            data={chart}
            format={formatCount}
            rangeSeconds={hours * 3_600}
            domain={[data.start, data.end]}
            label="Simulated instances per policy"
            wholeNumbers
          />
          <DataTable
            label="Simulated policies"
            columns={[
              "Policy",
              "Peak instances",
              "Average",
              "Minutes above its CPU target",
              "Minutes above 80% CPU",
              "Cost of the replayed minutes",
              "Per month at this rate",
            ]}
          >
            {data.results.map((r) => (
              <tr key={r.policy}>
                <th scope="row">{r.policy}</th>
                <td>{r.peakReplicas}</td>
                <td>{r.averageReplicas}</td>
                <td>{r.minutesAboveTarget}</td>
                <td>{r.minutesAboveAlert}</td>
                <td>{formatUsd(r.costUsd)}</td>
                <td>{formatUsd(r.monthlyCostUsd)}</td>
              </tr>
            ))}
          </DataTable>
        </>
      ) : null}
    </Panel>
  );
}

export function ScalingView() {
  const [range, setRange] = useState<RangeKey>("1h");
  const scaling = useScaling(range);
  const canWrite = useCan("scaling.write");
  const rangeId = useId();
  const data = scaling.data;
  const chart = useMemo(() => (data ? toChartData(data.history) : null), [data]);
  return (
    <div className="page">
      <div className="page-header">
        <h1>Scaling</h1>
        <div className="range-selector">
          <label htmlFor={rangeId}>Time range</label>
          <select id={rangeId} value={range} onChange={(e) => setRange(e.target.value as RangeKey)}>
            {RANGES.map((r) => (
              <option key={r} value={r}>
                Last {RANGE_SPECS[r].label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Panel title="Decision" testId="panel-scaling-decision" loading={scaling.isPending} error={scaling.error}>
        {data ? (
          <>
            <div className="stats">
              <Stat label="Active policy" value={data.active?.name ?? "none"} testId="scaling-active-policy" />
              <Stat
                label="Current instances"
                value={data.latest ? String(data.latest.currentReplicas) : "–"}
                testId="scaling-current"
              />
              <Stat
                label="Desired instances"
                value={data.latest ? String(data.latest.desiredReplicas) : "–"}
                testId="scaling-desired"
              />
              <Stat label="Carried out by" value={TARGETS[data.target]} testId="scaling-target" />
              {data.latest?.queue !== undefined ? (
                <Stat
                  label="Queued batch jobs (at the decision)"
                  value={data.latest.queue ? data.latest.queue.queued.toLocaleString("en-US") : "—"}
                  testId="scaling-queue"
                />
              ) : null}
            </div>
            <p data-testid="scaling-reason">
              {data.latest ? data.latest.message : `No decision yet: the leader decides every ${data.intervalSeconds} s.`}
            </p>
            {decisionPredatesSwitch(data) ? (
              <p className="muted small" role="status" data-testid="scaling-decision-pending">
                That decision was made under {data.latest!.policyName}; the leader decides under {data.active!.name} within{" "}
                {data.intervalSeconds} s.
              </p>
            ) : null}
            {data.latest?.detail ? <p className="muted small">{data.latest.detail}</p> : null}
          </>
        ) : null}
      </Panel>
      <Panel
        title="Instances over time"
        testId="panel-scaling-history"
        loading={scaling.isPending}
        error={scaling.error}
        empty={!!chart && !chart.hasData}
        emptyText="No decision in this range."
      >
        {data && chart ? (
          <TimeSeriesChart
            data={chart}
            format={formatCount}
            rangeSeconds={RANGE_SPECS[range].seconds}
            domain={[data.start, data.end]}
            label="Current, desired and recommended instances"
            wholeNumbers
          />
        ) : null}
      </Panel>
      <div className="grid">
        <Panel
          title="Active policy"
          testId="panel-active-policy"
          loading={scaling.isPending}
          error={scaling.error}
          empty={!!data && !data.active}
          emptyText="No policy is active yet."
        >
          {data?.active ? (
            <>
              {data.activeFromFile ? (
                <p className="muted" data-testid="active-from-file">
                  <ManagedBadge /> The configuration file chooses the active policy (scaling.active): switch it there.
                </p>
              ) : null}
              {data.active.spec?.description ? <p>{data.active.spec.description}</p> : null}
              <Fields policy={data.active} />
            </>
          ) : null}
        </Panel>
        <Panel
          title="HorizontalPodAutoscaler"
          testId="panel-hpa-manifest"
          loading={scaling.isPending}
          error={scaling.error}
          empty={!!data && !data.hpaManifest}
          actions={data?.hpaManifest ? <CopyButton value={data.hpaManifest} label="Copy manifest" /> : undefined}
        >
          {data?.hpaManifest ? (
            <pre className="json" data-testid="hpa-manifest">
              {data.hpaManifest}
            </pre>
          ) : null}
        </Panel>
      </div>
      <Panel title="Policies" testId="panel-policies" loading={scaling.isPending} error={scaling.error}>
        {data ? (
          <DataTable
            label="Scaling policies"
            columns={["Policy", "Instances", "Scale up at", "Scale down at", canWrite ? "Switch" : null]}
          >
            {data.policies.map((p) => (
              <tr key={p.id} data-policy={p.name}>
                <th scope="row">
                  {p.name} {p.preset ? <span className="pill">preset</span> : null}{" "}
                  {p.active ? <span className="pill">active</span> : null} {p.managedBy ? <ManagedBadge /> : null}
                  {p.spec?.description ? <div className="muted small">{p.spec.description}</div> : null}
                </th>
                <td>{p.spec ? `${p.spec.minReplicas}–${p.spec.maxReplicas}` : "–"}</td>
                <td>{p.spec ? `${p.spec.cpu.scaleUpAtPercent}% CPU` : "–"}</td>
                <td>{p.spec ? `${p.spec.cpu.scaleDownAtPercent}% CPU` : "–"}</td>
                {canWrite ? (
                  <td>
                    {p.active ? null : (
                      <span className="inline-actions">
                        {data.activeFromFile ? (
                          <LockedButton label={`Switch to ${p.name}`}>Switch to {p.name}</LockedButton>
                        ) : (
                          <SwitchPolicy active={data.active} policy={p} />
                        )}
                        {p.preset ? null : p.managedBy ? (
                          <LockedButton label={`Delete ${p.name}`}>Delete</LockedButton>
                        ) : (
                          <DeletePolicy policy={p} />
                        )}
                      </span>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
      <Panel
        title="Recent changes of scale"
        testId="panel-scaling-recent"
        loading={scaling.isPending}
        error={scaling.error}
        empty={!!data && data.recent.length === 0}
        emptyText="Nothing was scaled yet."
      >
        {data ? (
          <DataTable label="Recent scaling decisions" columns={["When", "Instances", "Why", "Outcome"]}>
            {data.recent.map((d) => (
              <tr key={d.id}>
                <td>{new Date(d.at).toLocaleString()}</td>
                <td>
                  {d.currentReplicas} → {d.desiredReplicas}
                </td>
                <td>{d.message}</td>
                <td>
                  {d.outcome}
                  {d.detail ? <div className="muted small">{d.detail}</div> : null}
                </td>
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
      <Panel
        title="Policy history"
        testId="panel-policy-history"
        loading={scaling.isPending}
        error={scaling.error}
        empty={!!data && data.changes.length === 0}
      >
        {data ? (
          <DataTable label="Policy history" columns={["When", "Change", "By", "Reason"]}>
            {data.changes.map((c) => (
              <tr key={c.id}>
                <td>{new Date(c.at).toLocaleString()}</td>
                <td>{c.from && c.from !== c.policyName ? `${c.from} → ${c.policyName}` : c.policyName}</td>
                <td>{c.actor}</td>
                <td>{c.reason ?? ""}</td>
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
      <Simulator />
      <Can scope="scaling.write">{data ? <PolicyForm template={data.active} /> : null}</Can>
    </div>
  );
}
