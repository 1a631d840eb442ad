// Chooses a deployment for each attempt and keeps per-deployment health: in-flight calls, a
// latency moving average, and a circuit breaker (closed → open after repeated failures → one
// trial call after the cooldown → closed again on success). It also counts, since the process
// started, what the console's provider health shows: attempts, failures, requests its open
// circuit refused, and the last failure (the heartbeat carries the report, lib/data-plane/gateway/health-report.ts).
import { setTimeout as sleep } from "node:timers/promises";
import type { DeploymentEntry } from "../fleet-config/snapshot";
import { UpstreamFailure } from "../providers/types";
import { clientGone } from "./upstream-attempt";

export type CircuitState = "closed" | "open" | "half_open";

export interface RouterOptions {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** Consecutive failures that open a deployment's circuit. */
  failureThreshold: number;
  cooldownMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Monotonic milliseconds, for cooldowns and latency. */
  now: () => number;
  /** Epoch milliseconds, for when the last failure happened. */
  wallClock: () => number;
  random: () => number;
}

const DEFAULT_ROUTER_OPTIONS: RouterOptions = {
  maxAttempts: 3,
  failureThreshold: 5,
  cooldownMs: 30_000,
  backoffBaseMs: 25,
  backoffMaxMs: 1_000,
  now: () => performance.now(),
  wallClock: () => Date.now(),
  random: Math.random,
};

const LATENCY_SMOOTHING = 0.2;

class DeploymentHealth {
  inFlight = 0;
  latencyEwmaMs: number | null = null;
  consecutiveFailures = 0;
  state: CircuitState = "closed";
  openedAt = 0;
  trialInFlight = false;
}

/** What the console shows about a deployment, kept apart from the state routing decides by. */
class DeploymentCounters {
  /** Attempts started on the deployment. */
  attempts = 0;
  /** Attempts (and streams) that failed in a way that counts against the deployment. */
  failures = 0;
  /** Requests for its model that could not use it because its circuit was open (or its half-open trial was taken). */
  refusedByCircuit = 0;
  /** Sum of answered attempts' durations, and how many: a mean that merges across instances. */
  answeredMs = 0;
  answered = 0;
  lastFailure: { reason: string; status: number | null; at: number } | null = null;
}

export class NoDeploymentAvailable extends Error {
  override name = "NoDeploymentAvailable";
  constructor(readonly retryAfterMs: number) {
    super("every deployment of this model has an open circuit");
  }
}

export interface AttemptOutcome<T> {
  result: T;
  deployment: DeploymentEntry;
  attempts: number;
}

/** The client the attempts are for: once it has gone, nothing more is tried. */
export interface Requester {
  readonly gone: boolean;
}

export interface RouterEvents {
  onRetry?(deployment: DeploymentEntry, failure: UpstreamFailure): void;
  onFallback?(from: DeploymentEntry, to: DeploymentEntry): void;
  onCircuitChange?(deployment: DeploymentEntry, state: CircuitState): void;
  /** Every attempt that ended without an answer, whoever's fault it was (see UpstreamFailure.blamesDeployment). */
  onAttemptFailed?(deployment: DeploymentEntry, failure: UpstreamFailure): void;
}

export class Router {
  private readonly health = new Map<string, DeploymentHealth>();
  private readonly counters = new Map<string, DeploymentCounters>();
  readonly options: RouterOptions;

  constructor(
    options: Partial<RouterOptions> = {},
    private readonly events: RouterEvents = {},
  ) {
    this.options = { ...DEFAULT_ROUTER_OPTIONS, ...options };
  }

  healthOf(deploymentId: string): DeploymentHealth {
    let health = this.health.get(deploymentId);
    if (!health) this.health.set(deploymentId, (health = new DeploymentHealth()));
    return health;
  }

  /**
   * Runs `call` on a chosen deployment, retrying retryable failures on the next one (an untried
   * deployment first, the same one after a backoff when none is left, never one that refused our
   * credentials or model), up to maxAttempts.
   */
  async run<T>(
    deployments: readonly DeploymentEntry[],
    call: (deployment: DeploymentEntry) => Promise<T>,
    requester?: Requester,
  ): Promise<AttemptOutcome<T>> {
    let tried: Set<string> | undefined;
    let excluded: Set<string> | undefined;
    let previous: DeploymentEntry | undefined;
    let lastFailure: UpstreamFailure | undefined;
    this.countRefusals(deployments);
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      const deployment = this.pick(deployments, tried, excluded);
      if (!deployment) {
        if (lastFailure) throw lastFailure;
        throw new NoDeploymentAvailable(this.retryAfterMs(deployments));
      }
      if (previous) {
        if (previous.id !== deployment.id) this.events.onFallback?.(previous, deployment);
        else await this.backoff(attempt);
      }
      if (requester?.gone) throw lastFailure ?? clientGone();
      (tried ??= new Set()).add(deployment.id);
      previous = deployment;
      const started = this.options.now();
      this.begin(deployment);
      try {
        const result = await call(deployment);
        this.succeeded(deployment, this.options.now() - started);
        return { result, deployment, attempts: attempt };
      } catch (error) {
        // Not an upstream's answer but a fault of ours: the deployment is neither blamed nor retried.
        if (!(error instanceof UpstreamFailure)) {
          this.released(deployment);
          throw error;
        }
        const failure = error;
        this.events.onAttemptFailed?.(deployment, failure);
        // A client error is the request's fault, not the deployment's: it counts as an answer.
        if (failure.reason === "client_error") this.succeeded(deployment, this.options.now() - started);
        else if (failure.blamesDeployment) this.failed(deployment, failure);
        else this.released(deployment);
        if (!failure.retryable || requester?.gone) throw failure;
        if (!failure.sameDeploymentMayRecover) (excluded ??= new Set()).add(deployment.id);
        lastFailure = failure;
        if (attempt < this.options.maxAttempts) this.events.onRetry?.(deployment, failure);
      }
    }
    throw lastFailure!;
  }

  /**
   * For streams: the call above returns at the first byte; the rest of the stream reports here.
   * `failure` is the upstream's failure mid-stream; none when it finished or its client left.
   */
  streamEnded(deployment: DeploymentEntry, failure?: UpstreamFailure): void {
    if (!failure?.blamesDeployment) return;
    this.events.onAttemptFailed?.(deployment, failure);
    const health = this.healthOf(deployment.id);
    this.recordFailure(deployment, failure);
    this.transition(deployment, health, health.consecutiveFailures + 1);
  }

  countersOf(deploymentId: string): DeploymentCounters {
    let counters = this.counters.get(deploymentId);
    if (!counters) this.counters.set(deploymentId, (counters = new DeploymentCounters()));
    return counters;
  }

  /** Every deployment this router has seen, with its state and counters. */
  *deploymentReports(): Generator<{ id: string; health: DeploymentHealth; counters: DeploymentCounters }> {
    for (const [id, health] of this.health) yield { id, health, counters: this.countersOf(id) };
  }

  /** Once per request: each deployment of the model its circuit keeps out (no state change here). */
  private countRefusals(deployments: readonly DeploymentEntry[]): void {
    for (const deployment of deployments) {
      const health = this.health.get(deployment.id);
      if (!health || health.state === "closed") continue;
      const coolingDown = health.state === "open" && this.options.now() - health.openedAt < this.options.cooldownMs;
      if (coolingDown || (health.state === "half_open" && health.trialInFlight))
        this.countersOf(deployment.id).refusedByCircuit++;
    }
  }

  private recordFailure(deployment: DeploymentEntry, failure: UpstreamFailure): void {
    const counters = this.countersOf(deployment.id);
    counters.failures++;
    counters.lastFailure = { reason: failure.reason, status: failure.status, at: this.options.wallClock() };
  }

  /** Weighted random choice among callable deployments, favouring idle and fast ones. */
  pick(
    deployments: readonly DeploymentEntry[],
    tried?: ReadonlySet<string>,
    excluded?: ReadonlySet<string>,
  ): DeploymentEntry | undefined {
    if (deployments.length === 1)
      return !excluded?.has(deployments[0]!.id) && this.callable(deployments[0]!) ? deployments[0] : undefined;
    const callable = deployments.filter((d) => !excluded?.has(d.id) && this.callable(d));
    if (callable.length === 0) return undefined;
    const fresh = tried ? callable.filter((d) => !tried.has(d.id)) : callable;
    const pool = fresh.length > 0 ? fresh : callable;
    if (pool.length === 1) return pool[0];
    const scores = pool.map((d) => {
      const health = this.healthOf(d.id);
      const latencyFactor = 1 + (health.latencyEwmaMs ?? 0) / 100;
      return d.weight / ((1 + health.inFlight) * latencyFactor);
    });
    let ticket = this.options.random() * scores.reduce((a, b) => a + b, 0);
    for (let i = 0; i < pool.length; i++) {
      ticket -= scores[i]!;
      if (ticket <= 0) return pool[i];
    }
    return pool[pool.length - 1];
  }

  private callable(deployment: DeploymentEntry): boolean {
    const health = this.healthOf(deployment.id);
    if (health.state === "closed") return true;
    if (health.state === "open") {
      if (this.options.now() - health.openedAt < this.options.cooldownMs) return false;
      this.setState(deployment, health, "half_open");
    }
    return !health.trialInFlight;
  }

  private begin(deployment: DeploymentEntry): void {
    const health = this.healthOf(deployment.id);
    health.inFlight++;
    this.countersOf(deployment.id).attempts++;
    if (health.state === "half_open") health.trialInFlight = true;
  }

  private succeeded(deployment: DeploymentEntry, elapsedMs: number): void {
    const health = this.healthOf(deployment.id);
    health.inFlight--;
    health.trialInFlight = false;
    const counters = this.countersOf(deployment.id);
    counters.answered++;
    counters.answeredMs += elapsedMs;
    health.latencyEwmaMs =
      health.latencyEwmaMs === null ? elapsedMs : health.latencyEwmaMs + LATENCY_SMOOTHING * (elapsedMs - health.latencyEwmaMs);
    health.consecutiveFailures = 0;
    if (health.state !== "closed") this.setState(deployment, health, "closed");
  }

  /** The attempt ended for a reason that says nothing about the deployment: a half-open trial slot frees without a verdict. */
  private released(deployment: DeploymentEntry): void {
    const health = this.healthOf(deployment.id);
    health.inFlight--;
    health.trialInFlight = false;
  }

  private failed(deployment: DeploymentEntry, failure: UpstreamFailure): void {
    const health = this.healthOf(deployment.id);
    health.inFlight--;
    health.trialInFlight = false;
    this.recordFailure(deployment, failure);
    this.transition(deployment, health, health.consecutiveFailures + 1);
  }

  private transition(deployment: DeploymentEntry, health: DeploymentHealth, failures: number): void {
    health.consecutiveFailures = failures;
    if (health.state === "half_open" || (health.state === "closed" && failures >= this.options.failureThreshold)) {
      health.openedAt = this.options.now();
      this.setState(deployment, health, "open");
    }
  }

  private setState(deployment: DeploymentEntry, health: DeploymentHealth, state: CircuitState): void {
    health.state = state;
    this.events.onCircuitChange?.(deployment, state);
  }

  private retryAfterMs(deployments: readonly DeploymentEntry[]): number {
    const waits = deployments.map((d) => this.options.cooldownMs - (this.options.now() - this.healthOf(d.id).openedAt));
    return Math.max(0, Math.min(...waits, this.options.cooldownMs));
  }

  /** Full-jitter backoff, at most backoffMaxMs; a client that leaves meanwhile is noticed after it. */
  private async backoff(attempt: number): Promise<void> {
    const cap = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** (attempt - 1));
    await sleep(this.options.random() * cap);
  }
}
