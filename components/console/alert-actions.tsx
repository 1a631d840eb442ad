"use client";
// An operator's answer to an alert: acknowledge it (someone is on it) or silence its rule for a
// chosen time; a silenced rule can be given its voice back.
import { useId, useState } from "react";
import type { AlertRuleDto } from "@/lib/control-plane/console/contracts";
import { useAcknowledgeAlert, useSilenceAlert } from "@/components/console/hooks/console";
import { FormError } from "./form-error";

const SILENCE_CHOICES: Array<[number, string]> = [
  [3_600, "1 hour"],
  [4 * 3_600, "4 hours"],
  [24 * 3_600, "1 day"],
  [7 * 86_400, "7 days"],
];

export function AlertActions({ rule }: { rule: AlertRuleDto }) {
  const acknowledge = useAcknowledgeAlert();
  const silence = useSilenceAlert();
  const [duration, setDuration] = useState(SILENCE_CHOICES[0]![0]);
  const durationId = useId();
  const unacknowledged = rule.activeSubjects.some((s) => s.acknowledgedAt === null);
  if (rule.silence) {
    return (
      <div className="inline-form">
        <button
          type="button"
          className="button secondary"
          disabled={silence.isPending}
          onClick={() => silence.mutate({ id: rule.id, silence: null })}
        >
          End silence
        </button>
        <FormError error={silence.error} />
      </div>
    );
  }
  return (
    <div className="inline-form">
      {unacknowledged ? (
        <button type="button" className="button" disabled={acknowledge.isPending} onClick={() => acknowledge.mutate(rule.id)}>
          Acknowledge
        </button>
      ) : null}
      <label htmlFor={durationId}>Silence for</label>
      <select id={durationId} value={duration} onChange={(e) => setDuration(Number(e.target.value))}>
        {SILENCE_CHOICES.map(([seconds, label]) => (
          <option key={seconds} value={seconds}>
            {label}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="button secondary"
        disabled={silence.isPending}
        onClick={() => silence.mutate({ id: rule.id, silence: { durationSeconds: duration } })}
      >
        Silence
      </button>
      <FormError error={acknowledge.error ?? silence.error} />
    </div>
  );
}
