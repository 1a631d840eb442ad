// One rule's state for one subject, moved by one evaluation: the same semantics as Prometheus'
// `for`. A breach starts "pending"; it fires once it has held for `forSeconds` (at once when 0);
// the first evaluation without the breach ends it — "resolved" if it had fired, "cancelled" if not.
import type { AlertStatusName, AlertTransitionName } from "./rules";

export interface SubjectState {
  status: AlertStatusName;
  /** Unix ms the breach began; null while inactive. */
  activeSince: number | null;
  firedAt: number | null;
}

export const INACTIVE: SubjectState = { status: "inactive", activeSince: null, firedAt: null };

export function nextState(
  current: SubjectState,
  breached: boolean,
  nowMs: number,
  forSeconds: number,
): { state: SubjectState; transition: AlertTransitionName | null } {
  if (!breached) {
    if (current.status === "firing") return { state: INACTIVE, transition: "resolved" };
    if (current.status === "pending") return { state: INACTIVE, transition: "cancelled" };
    return { state: current, transition: null };
  }
  const since = current.activeSince ?? nowMs;
  if (current.status === "firing") return { state: current, transition: null };
  if (nowMs - since >= forSeconds * 1000)
    return { state: { status: "firing", activeSince: since, firedAt: nowMs }, transition: "firing" };
  if (current.status === "pending") return { state: current, transition: null };
  return { state: { status: "pending", activeSince: since, firedAt: null }, transition: "pending" };
}

export function breaches(value: number | null, comparison: "above" | "below", threshold: number): boolean {
  if (value === null || !Number.isFinite(value)) return false;
  return comparison === "above" ? value > threshold : value < threshold;
}
