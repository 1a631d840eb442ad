"use client";
// The Capacity page: required instances = ceil(peak ÷ capacity × safety factor), with the peak
// from history, the capacity measured, and a recommendation across instance sizes; admins edit
// the safety factor, the instance sizes and the scaling schedule.
import { useId, useState, type FormEvent } from "react";
import { formatNumber } from "@/lib/control-plane/console/charts";
import type { CapacityResponse } from "@/lib/control-plane/scaling/contracts";
import {
  useCapacity,
  useReplaceInstanceSizes,
  useReplaceSchedule,
  useUpdateCapacitySettings,
} from "@/components/console/hooks/scaling";
import { formatStep, formatUsd, parseSpecText } from "@/lib/control-plane/scaling/views";
import { FormError } from "./form-error";
import { NumberTextField } from "./number-text-field";
import { Panel, Stat } from "./panel";
import { Can } from "./session-context";
import { DataTable } from "./data-table";

const SOURCES: Record<CapacityResponse["recommendation"]["capacitySource"], string> = {
  observed: "observed at the CPU target",
  benchmark: "from the latest benchmark",
  nominal: "the size's nominal figure",
};

function SettingsForm({ data }: { data: CapacityResponse }) {
  const update = useUpdateCapacitySettings();
  const [safety, setSafety] = useState(String(data.settings.safetyFactor));
  const [size, setSize] = useState(data.settings.instanceSizeId ?? "");
  const [days, setDays] = useState(String(data.settings.lookbackDays));
  const sizeId = useId();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ safetyFactor: Number(safety), instanceSizeId: size || null, lookbackDays: Number(days) });
  };
  return (
    <form className="form-row" onSubmit={onSubmit} aria-label="Capacity settings">
      <NumberTextField label="Safety factor" value={safety} onChange={setSafety} min={1} max={10} step={0.05} required />
      <div className="field">
        <label htmlFor={sizeId}>The fleet runs on</label>
        <select id={sizeId} value={size} onChange={(e) => setSize(e.target.value)}>
          <option value="">(not set)</option>
          {data.sizes.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </div>
      <NumberTextField label="Peak over the last (days)" value={days} onChange={setDays} min={1} max={90} step={1} required />
      <button type="submit" className="button" disabled={update.isPending}>
        {update.isPending ? "Saving…" : "Save"}
      </button>
      {update.isSuccess ? <span role="status">Saved</span> : null}
      <FormError error={update.error} />
    </form>
  );
}

/** A whole table edited as JSON: small, rarely changed, validated by the server. */
function JsonTableForm({
  label,
  initial,
  onSave,
  pending,
  error,
  saved,
}: {
  label: string;
  initial: unknown;
  onSave: (value: unknown) => void;
  pending: boolean;
  error: Error | null;
  saved: boolean;
}) {
  const [text, setText] = useState(() => JSON.stringify(initial, null, 2));
  const [local, setLocal] = useState<Error | null>(null);
  const id = useId();
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseSpecText(text);
    if (!parsed.ok) return setLocal(new Error(parsed.error));
    setLocal(null);
    onSave(parsed.value);
  };
  return (
    <form onSubmit={onSubmit} aria-label={`Edit ${label}`}>
      <div className="field">
        <label htmlFor={id}>{label} (JSON)</label>
        <textarea id={id} className="json" rows={10} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </div>
      <div className="form-actions">
        <button type="submit" className="button secondary" disabled={pending}>
          {pending ? "Saving…" : `Save ${label.toLowerCase()}`}
        </button>
        {saved ? <span role="status">Saved</span> : null}
      </div>
      <FormError error={local ?? error} />
    </form>
  );
}

export function CapacityView() {
  const capacity = useCapacity();
  const sizes = useReplaceInstanceSizes();
  const schedule = useReplaceSchedule();
  const data = capacity.data;
  const r = data?.recommendation;
  // The measurements failing blanks what rests on them, never the tables or the form.
  const measurementError = capacity.error ?? data?.metricsError ?? null;
  return (
    <div className="page">
      <div className="page-header">
        <h1>Capacity</h1>
      </div>
      <Panel title="Recommendation" testId="panel-capacity-recommendation" loading={capacity.isPending} error={measurementError}>
        {data && r ? (
          <>
            {r.aboveMaximum ? (
              <p className="state state-error" role="alert" data-testid="capacity-above-maximum">
                The plan needs {r.aboveMaximum.instances} instances, more than the {r.aboveMaximum.policy} policy&apos;s maximum
                of {r.aboveMaximum.maxReplicas}: at this peak the autoscaler stops at {r.aboveMaximum.maxReplicas}. Raise the
                policy&apos;s maximum on the Scaling page, or choose larger instances.
              </p>
            ) : null}
            <div className="stats">
              <Stat
                label={`Peak (busiest ${formatStep(data.peakStepSeconds)} average, last ${data.settings.lookbackDays} day${data.settings.lookbackDays === 1 ? "" : "s"})`}
                value={data.peak ? `${formatNumber(data.peak.requestsPerSecond, 1)} req/s` : "no traffic yet"}
                testId="capacity-peak"
              />
              <Stat
                label="Per-instance capacity"
                value={r.current ? `${formatNumber(r.current.requestsPerSecond, 1)} req/s` : "–"}
                testId="capacity-per-instance"
              />
              <Stat label="Safety factor" value={String(data.settings.safetyFactor)} testId="capacity-safety" />
              <Stat label="Required instances" value={r.current ? String(r.current.instances) : "–"} testId="capacity-required" />
            </div>
            <p data-testid="capacity-summary">{r.summary}</p>
            <p className="muted small">
              Capacity: {SOURCES[r.capacitySource]}
              {data.observed
                ? ` (${data.observed.samples} instance-minutes, r² ${formatNumber(data.observed.r2, 2)}, idle CPU ${formatNumber(data.observed.idleCpu, 1)}%)`
                : ""}
              {r.capacitySource === "benchmark" && data.benchmark
                ? ` (${data.benchmark.source}, ${new Date(data.benchmark.at).toLocaleDateString()}: ${data.benchmark.notes})`
                : ""}
              . Policy {data.policy.name}: CPU target {data.policy.targetCpuPercent}%, at least {data.policy.minReplicas} and at
              most {data.policy.maxReplicas} instances.
            </p>
          </>
        ) : null}
      </Panel>
      <Panel
        title="By instance size"
        testId="panel-capacity-options"
        loading={capacity.isPending}
        error={measurementError}
        empty={!!r && r.options.length === 0}
      >
        {r ? (
          <DataTable
            label="Instance sizes compared"
            columns={["Size", "CPU / memory", "Capacity each", "Instances", "Per month"]}
          >
            {r.options.map((o) => (
              <tr key={o.size.id} data-size={o.size.id}>
                <th scope="row">
                  {o.size.name} {r.best?.size.id === o.size.id ? <span className="pill">recommended</span> : null}
                </th>
                <td>
                  {o.size.cpuCores} CPU / {o.size.memoryGb} GB
                </td>
                <td>{formatNumber(o.requestsPerSecond, 1)} req/s</td>
                <td>
                  {o.instances}
                  {o.instances > data.policy.maxReplicas ? <span className="pill">above the policy&apos;s maximum</span> : null}
                </td>
                <td>{formatUsd(o.monthlyCostUsd)}</td>
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
      <Panel
        title="Scaling schedule"
        testId="panel-capacity-schedule"
        loading={capacity.isPending}
        error={capacity.error}
        empty={!!data && data.schedule.length === 0}
      >
        {data ? (
          <DataTable label="Scaling schedule" columns={["Users", "Requests per second", "Instances", "Notes"]}>
            {data.schedule.map((row) => (
              <tr key={`${row.users}-${row.rpsFrom}`} aria-current={r?.schedule?.rpsFrom === row.rpsFrom ? "true" : undefined}>
                <td>{row.users}</td>
                <td>{row.rpsTo === null ? `${row.rpsFrom}+` : `${row.rpsFrom}–${row.rpsTo}`}</td>
                <td>
                  {row.instancesMax === null
                    ? `${row.instancesMin}+`
                    : row.instancesMax === row.instancesMin
                      ? row.instancesMin
                      : `${row.instancesMin}–${row.instancesMax}`}
                </td>
                <td>
                  {row.notes} {r?.schedule?.rpsFrom === row.rpsFrom ? <span className="pill">your peak</span> : null}
                </td>
              </tr>
            ))}
          </DataTable>
        ) : null}
      </Panel>
      <Can scope="scaling.write">
        {/* Always shown to admins: a setting that broke the page must stay in reach to undo it. */}
        <Panel title="Edit" testId="panel-capacity-edit" loading={capacity.isPending} error={data ? null : capacity.error}>
          {data ? (
            <>
              <SettingsForm data={data} />
              <JsonTableForm
                label="Instance sizes"
                initial={data.sizes}
                onSave={(v) => sizes.mutate({ sizes: v as never })}
                pending={sizes.isPending}
                error={sizes.error}
                saved={sizes.isSuccess}
              />
              <JsonTableForm
                label="Scaling schedule"
                initial={data.schedule}
                onSave={(v) => schedule.mutate({ schedule: v as never })}
                pending={schedule.isPending}
                error={schedule.error}
                saved={schedule.isSuccess}
              />
            </>
          ) : null}
        </Panel>
      </Can>
    </div>
  );
}
