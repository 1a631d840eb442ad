"use client";
// An admin's change to one alert rule: threshold (or following the scaling policy's minimum
// again, for the instance-count rule), duration and switch. Only what changed is sent.
import { useId, useState, type FormEvent } from "react";
import type { AlertRuleDto } from "@/lib/control-plane/console/contracts";
import { useUpdateAlertRule } from "@/components/console/hooks/console";
import { FormError } from "./form-error";

const PERCENT_METRICS = new Set(["cpu_percent", "memory_percent", "error_rate_percent"]);

export function AlertRuleEditor({ rule }: { rule: AlertRuleDto }) {
  const update = useUpdateAlertRule();
  const [threshold, setThreshold] = useState(String(rule.threshold));
  const [followPolicy, setFollowPolicy] = useState(rule.thresholdFromPolicy);
  const [forSeconds, setForSeconds] = useState(String(rule.forSeconds));
  const [enabled, setEnabled] = useState(rule.enabled);
  const ids = { threshold: useId(), followPolicy: useId(), forSeconds: useId(), enabled: useId() };
  const canFollowPolicy = rule.metric === "instance_count";
  const percent = PERCENT_METRICS.has(rule.metric);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const thresholdChange =
      followPolicy !== rule.thresholdFromPolicy || (!followPolicy && Number(threshold) !== rule.threshold)
        ? { threshold: followPolicy ? null : Number(threshold) }
        : {};
    const change = {
      ...thresholdChange,
      ...(Number(forSeconds) !== rule.forSeconds ? { forSeconds: Number(forSeconds) } : {}),
      ...(enabled !== rule.enabled ? { enabled } : {}),
    };
    if (Object.keys(change).length > 0) update.mutate({ id: rule.id, change });
  };
  return (
    <form className="inline-form" onSubmit={onSubmit} aria-label={`Edit ${rule.name}`}>
      {canFollowPolicy ? (
        <>
          <input
            id={ids.followPolicy}
            type="checkbox"
            checked={followPolicy}
            onChange={(e) => setFollowPolicy(e.target.checked)}
          />
          <label htmlFor={ids.followPolicy}>Follow scaling policy</label>
        </>
      ) : null}
      <label htmlFor={ids.threshold}>Threshold{percent ? " (%)" : ""}</label>
      <input
        id={ids.threshold}
        type="number"
        step="any"
        min={0}
        max={percent ? 100 : undefined}
        value={threshold}
        onChange={(e) => setThreshold(e.target.value)}
        required={!followPolicy}
        disabled={followPolicy}
        className="narrow"
      />
      <label htmlFor={ids.forSeconds}>For (s)</label>
      <input
        id={ids.forSeconds}
        type="number"
        min={0}
        max={86400}
        step={1}
        value={forSeconds}
        onChange={(e) => setForSeconds(e.target.value)}
        required
        className="narrow"
      />
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
