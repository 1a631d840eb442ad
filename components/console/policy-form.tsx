"use client";
// Saving a custom scaling policy with a form: every field of the spec as an input, starting from
// a policy to adapt (the active one by default). The server validates with the same schema and
// names the offending field; the form keeps what was typed.
import { useId, useState, type FormEvent } from "react";
import type { PolicyDto } from "@/lib/control-plane/scaling/contracts";
import { useSavePolicy } from "@/components/console/hooks/scaling";
import { DEFAULT_POLICY, PRESETS, type PolicySpec } from "@/lib/control-plane/scaling/policies";
import { FormError } from "./form-error";
import { Panel } from "./panel";

type Direction = "scaleUp" | "scaleDown";
type Rules = PolicySpec["behavior"][Direction];

/** A number input's text as a number; empty stays NaN so the server names the field. */
const num = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

function NumberField({
  label,
  value,
  onChange,
  min,
  hint,
}: {
  label: string;
  value: number | undefined;
  onChange: (value: number) => void;
  min?: number;
  hint?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={min}
        value={value === undefined || Number.isNaN(value) ? "" : value}
        onChange={(e) => onChange(num(e.target.value))}
        title={hint}
      />
    </div>
  );
}

function RulesFields({ title, rules, onChange }: { title: string; rules: Rules; onChange: (rules: Rules) => void }) {
  const selectId = useId();
  const setPolicy = (index: number, change: Partial<Rules["policies"][number]>) =>
    onChange({ ...rules, policies: rules.policies.map((p, i) => (i === index ? { ...p, ...change } : p)) });
  return (
    <fieldset className="form-grid">
      <legend>{title}</legend>
      <NumberField
        label="Stabilization window (s)"
        min={0}
        value={rules.stabilizationWindowSeconds}
        onChange={(v) => onChange({ ...rules, stabilizationWindowSeconds: v })}
      />
      <div className="field">
        <label htmlFor={selectId}>When rate policies differ, use</label>
        <select
          id={selectId}
          value={rules.selectPolicy}
          onChange={(e) => onChange({ ...rules, selectPolicy: e.target.value as Rules["selectPolicy"] })}
        >
          <option value="Max">the largest change (Max)</option>
          <option value="Min">the smallest change (Min)</option>
          <option value="Disabled">no change in this direction (Disabled)</option>
        </select>
      </div>
      {rules.policies.map((policy, index) => (
        <RatePolicyRow
          key={index}
          title={`${title}: rate policy ${index + 1}`}
          policy={policy}
          onChange={(change) => setPolicy(index, change)}
          onRemove={
            rules.policies.length > 1
              ? () => onChange({ ...rules, policies: rules.policies.filter((_, i) => i !== index) })
              : undefined
          }
        />
      ))}
      <div className="field">
        <button
          type="button"
          className="button secondary"
          onClick={() => onChange({ ...rules, policies: [...rules.policies, { type: "Pods", value: 1, periodSeconds: 60 }] })}
          disabled={rules.policies.length >= 10}
        >
          Add a rate policy
        </button>
      </div>
    </fieldset>
  );
}

function RatePolicyRow({
  title,
  policy,
  onChange,
  onRemove,
}: {
  title: string;
  policy: Rules["policies"][number];
  onChange: (change: Partial<Rules["policies"][number]>) => void;
  onRemove?: () => void;
}) {
  const typeId = useId();
  return (
    <div className="field wide inline-form" role="group" aria-label={title}>
      <label htmlFor={typeId}>At most</label>
      <input
        aria-label={`${title}: amount`}
        className="narrow"
        type="number"
        min={1}
        value={Number.isNaN(policy.value) ? "" : policy.value}
        onChange={(e) => onChange({ value: num(e.target.value) })}
      />
      <select
        id={typeId}
        aria-label={`${title}: unit`}
        value={policy.type}
        onChange={(e) => onChange({ type: e.target.value as "Pods" | "Percent" })}
      >
        <option value="Pods">instances</option>
        <option value="Percent">% of current instances</option>
      </select>
      <span>per</span>
      <input
        aria-label={`${title}: period in seconds`}
        className="narrow"
        type="number"
        min={1}
        value={Number.isNaN(policy.periodSeconds) ? "" : policy.periodSeconds}
        onChange={(e) => onChange({ periodSeconds: num(e.target.value) })}
      />
      <span>s</span>
      {onRemove ? (
        <button type="button" className="button secondary" onClick={onRemove} aria-label={`Remove ${title}`}>
          Remove
        </button>
      ) : null}
    </div>
  );
}

export function PolicyForm({ template }: { template: PolicyDto | null }) {
  const save = useSavePolicy();
  const [name, setName] = useState("");
  const [spec, setSpec] = useState<PolicySpec>(() => structuredClone(template?.spec ?? PRESETS[DEFAULT_POLICY]));
  const ids = { name: useId(), description: useId() };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate({ name, spec });
  };
  const setOptional = <K extends "memory" | "requestsPerSecondPerInstance" | "queueDepthTarget">(
    key: K,
    value: PolicySpec[K] | undefined,
  ) =>
    setSpec((s) => {
      const next = { ...s };
      if (value === undefined) delete next[key];
      else next[key] = value;
      return next;
    });
  return (
    <Panel title="Save a custom policy" testId="panel-save-policy">
      <form onSubmit={onSubmit} aria-label="Save a custom policy" className="policy-form">
        <p className="muted small">
          Starts from {template ? `the active policy (${template.name})` : "the default policy"}. Thresholds are % of each
          instance&apos;s CPU request.
        </p>
        <div className="form-grid">
          <div className="field">
            <label htmlFor={ids.name}>Name</label>
            <input
              id={ids.name}
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              pattern="[a-z0-9][a-z0-9\-]{0,62}"
              title="lowercase letters, digits and dashes"
            />
          </div>
          <div className="field wide">
            <label htmlFor={ids.description}>Description</label>
            <input
              id={ids.description}
              value={spec.description ?? ""}
              maxLength={500}
              onChange={(e) => setSpec((s) => ({ ...s, description: e.target.value || undefined }))}
            />
          </div>
          <NumberField
            label="Minimum instances"
            min={1}
            value={spec.minReplicas}
            onChange={(v) => setSpec((s) => ({ ...s, minReplicas: v }))}
          />
          <NumberField
            label="Maximum instances"
            min={1}
            value={spec.maxReplicas}
            onChange={(v) => setSpec((s) => ({ ...s, maxReplicas: v }))}
          />
          <NumberField
            label="Scale up at CPU (%)"
            min={1}
            value={spec.cpu.scaleUpAtPercent}
            onChange={(v) => setSpec((s) => ({ ...s, cpu: { ...s.cpu, scaleUpAtPercent: v } }))}
          />
          <NumberField
            label="Scale down at CPU (%)"
            min={0}
            value={spec.cpu.scaleDownAtPercent}
            onChange={(v) => setSpec((s) => ({ ...s, cpu: { ...s.cpu, scaleDownAtPercent: v } }))}
          />
          <NumberField
            label="Memory target (%; empty: none)"
            min={1}
            value={spec.memory?.targetPercent}
            onChange={(v) => setOptional("memory", Number.isNaN(v) ? undefined : { targetPercent: v })}
          />
          <NumberField
            label="Requests/s per instance (empty: none)"
            min={1}
            value={spec.requestsPerSecondPerInstance}
            onChange={(v) => setOptional("requestsPerSecondPerInstance", Number.isNaN(v) ? undefined : v)}
          />
          <NumberField
            label="Queued batch jobs per instance (empty: none)"
            min={1}
            value={spec.queueDepthTarget ?? undefined}
            onChange={(v) => setOptional("queueDepthTarget", Number.isNaN(v) ? undefined : v)}
            hint="The fleet grows to queued batch jobs ÷ this many instances (the HPA's External metric), alongside CPU and the other targets."
          />
        </div>
        <RulesFields
          title="Scaling up"
          rules={spec.behavior.scaleUp}
          onChange={(scaleUp) => setSpec((s) => ({ ...s, behavior: { ...s.behavior, scaleUp } }))}
        />
        <RulesFields
          title="Scaling down"
          rules={spec.behavior.scaleDown}
          onChange={(scaleDown) => setSpec((s) => ({ ...s, behavior: { ...s.behavior, scaleDown } }))}
        />
        <div className="form-actions">
          <button type="submit" className="button" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save policy"}
          </button>
          {save.isSuccess ? <span role="status">Saved {save.data.policy.name}</span> : null}
        </div>
        <FormError error={save.error} />
      </form>
    </Panel>
  );
}
