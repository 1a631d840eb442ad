// SCALING_TARGET=local: the local cluster runner (tools/cluster-runner) carries the decision out
// through its control endpoint (LOCAL_CLUSTER_URL: GET /status, POST /scale). The runner counts
// starting instances as running (as a Deployment's spec.replicas does) and takes draining ones
// out, so the decider sees the same fleet an HPA would.
//
// A scale request returns only once the new instances are ready or the removed ones have drained
// (tens of seconds). The decider does not wait that long: it waits briefly, reports the change as
// applied if the runner has not refused it by then, and sends nothing more until it is done. The
// leadership's signal cuts the request (the runner carries on): a leader the runner is draining
// must be able to stop.
import type { ClusterStatus } from "../../../../tools/cluster-runner/control";
import type { ApplyInput, ApplyResult, ScalingTarget, TargetMember } from "./types";

export interface LocalRunnerClient {
  status(signal: AbortSignal): Promise<ClusterStatus>;
  scaleTo(replicas: number, signal: AbortSignal): Promise<ClusterStatus>;
}

const STATUS_TIMEOUT_MS = 5_000;
const SCALE_TIMEOUT_MS = 300_000;

export function localRunnerClient(url: string): LocalRunnerClient {
  const call = async (method: string, path: string, signal: AbortSignal, timeoutMs: number, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    const payload = (await response.json().catch(() => ({}))) as { error?: string };
    if (!response.ok) throw new Error(`local cluster runner: ${payload.error ?? `HTTP ${response.status}`}`);
    return payload as ClusterStatus;
  };
  return {
    status: (signal) => call("GET", "/status", signal, STATUS_TIMEOUT_MS),
    scaleTo: (replicas, signal) => call("POST", "/scale", signal, SCALE_TIMEOUT_MS, { replicas }),
  };
}

export interface LocalTargetOptions {
  /** How long apply() waits for the runner before reporting a change as under way. */
  acceptWaitMs?: number;
  /** Told when a change reported as under way fails later. */
  onLateFailure?: (error: Error, replicas: number) => void;
}

export function localTarget(client: LocalRunnerClient, options: LocalTargetOptions = {}): ScalingTarget {
  const acceptWaitMs = options.acceptWaitMs ?? 2_000;
  let inFlight: { replicas: number; done: Promise<void> } | null = null;

  return {
    kind: "local",
    async observe(signal) {
      const status = await client.status(signal);
      const members: TargetMember[] = status.instances
        .filter((i) => i.state !== "exited")
        .map((i) => ({ id: i.id, state: i.state === "ready" ? "ready" : i.state === "starting" ? "starting" : "draining" }));
      return { currentReplicas: members.filter((m) => m.state !== "draining").length, members };
    },

    async apply({ decision }: ApplyInput, signal): Promise<ApplyResult> {
      const { currentReplicas: current, desiredReplicas: desired } = decision;
      if (desired === current) return { outcome: "unchanged", scaleChange: 0 };
      if (inFlight) return { outcome: "pending", scaleChange: 0, detail: `scaling to ${inFlight.replicas} is still under way` };
      let failure: Error | null = null;
      let finished = false;
      const done = client.scaleTo(desired, signal).then(
        () => {
          finished = true;
        },
        (error: Error) => {
          failure = error;
          finished = true;
        },
      );
      const entry = { replicas: desired, done };
      inFlight = entry;
      void done.then(() => {
        if (inFlight === entry) inFlight = null;
      });
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, acceptWaitMs).unref())]);
      if (failure) return { outcome: "failed", scaleChange: 0, detail: (failure as Error).message };
      if (!finished) {
        void done.then(() => {
          if (failure && !signal.aborted) options.onLateFailure?.(failure, desired);
        });
        return { outcome: "applied", scaleChange: desired - current, detail: `scaling to ${desired}: under way` };
      }
      return { outcome: "applied", scaleChange: desired - current, detail: `scaled to ${desired}` };
    },
  };
}
