// What the decider needs from wherever the replica count lives: how many instances it runs (and
// in what state), and a way to carry a decision out.
import type { Decision } from "../hpa";
import type { PolicySpec } from "../policies";

export type TargetKind = "none" | "local" | "kubernetes";

/** An instance as the target sees it (the pods of a Deployment, the runner's children). */
export interface TargetMember {
  id: string;
  /** Draining members are left out of the decision, as the HPA ignores terminating pods. */
  state: "ready" | "starting" | "draining";
}

export interface TargetObservation {
  /** The replica count the target runs now (a Deployment's spec.replicas); null: count the healthy registry rows. */
  currentReplicas: number | null;
  /** The instances it runs; null when the instance registry is the only view. */
  members: TargetMember[] | null;
}

export type ApplyOutcome =
  /** Recommend only: nothing was asked of anyone. */
  | "recommended"
  /** The target accepted the change. */
  | "applied"
  /** An earlier change is still being carried out: this one waits. */
  | "pending"
  /** Nothing to change. */
  | "unchanged"
  | "failed";

export interface ApplyResult {
  outcome: ApplyOutcome;
  /** Replicas the target was told to add (> 0) or remove (< 0): the HPA's scale event. */
  scaleChange: number;
  detail?: string;
}

export interface ApplyInput {
  policyName: string;
  spec: PolicySpec;
  decision: Decision;
}

export interface ScalingTarget {
  readonly kind: TargetKind;
  observe(signal: AbortSignal): Promise<TargetObservation>;
  apply(input: ApplyInput, signal: AbortSignal): Promise<ApplyResult>;
}
