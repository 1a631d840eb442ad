// Leader election on one lease: every instance keeps trying to take the "leader" lease; the one
// that holds it renews it and runs the singleton jobs (reaping dead instances, rollups, alerts,
// scaling) until it is deposed or stops. Jobs get the leadership's token, to fence their writes,
// and its signal, which aborts the moment leadership ends.
import { setMaxListeners } from "node:events";
import type pg from "pg";
import { LeaseLostError, releaseLease, renewLease, tryAcquireLease, type Lease, type LeaseLostReason } from "./lease";

export type DeposedReason = LeaseLostReason | "stopped";

export type LeaderJob = (token: bigint, signal: AbortSignal) => Promise<void>;

export interface LeaderElectionOptions {
  pool: pg.Pool;
  /** This instance's identity in the lease row; unique per instance. */
  holder: string;
  /** Leadership lasts this long without renewal; a dead leader is replaced within about this. */
  ttlMs: number;
  /** The lease's name; default "leader". */
  name?: string;
  /**
   * How often the leader renews the lease; default ttlMs / 3. A follower asks again when the
   * leader's lease would expire unless renewed, but at least every 2 × checkEveryMs (so a released
   * lease is taken over within that).
   */
  checkEveryMs?: number;
  /** Called on becoming leader. `signal` aborts when leadership ends. */
  onElected?: (token: bigint, signal: AbortSignal) => void;
  /** Called when leadership ends: lost or unconfirmed (see LeaseLostReason), or stop(). */
  onDeposed?: (reason: DeposedReason) => void;
  /** Told about failures the election absorbs and retries, and about jobs that threw. */
  onError?: (error: unknown, during: "acquire" | "renew" | "release" | "job" | "callback") => void;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** The fencing token of the current leadership, or null when not leading. */
  token(): bigint | null;
  /**
   * Registers a singleton job: while this instance leads, `fn` runs at once and then `intervalMs`
   * after each run ends, never twice at a time. It must stop when `signal` aborts; a new
   * leadership of this instance starts only after the previous one's jobs have all returned.
   */
  runJob(name: string, intervalMs: number, fn: LeaderJob): void;
  /**
   * How long the lease has left by the database's clock (null: no lease row), read by a statement
   * that ran anyway (the registry heartbeat). A follower then asks next just after that, rather than
   * on its own schedule: while heartbeats keep seeing a renewed lease, a follower sends nothing.
   */
  observeLease(heldForMs: number | null): void;
  /** Stops campaigning; if leading, stops the jobs, waits for them, and releases the lease. */
  stop(): Promise<void>;
}

interface Term {
  lease: Lease;
  controller: AbortController;
  deadline?: NodeJS.Timeout;
  jobs: Promise<void>[];
}

/** A follower's shortest wait, and its margin past the lease's expiry (database round trip, timer lateness). */
const FOLLOWER_MIN_WAIT_MS = 10;

export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const checkEveryMs = options.checkEveryMs ?? options.ttlMs / 3;
  if (!(checkEveryMs > 0 && checkEveryMs < options.ttlMs / 2)) {
    throw new RangeError(`checkEveryMs must be positive and under half the TTL (got ${checkEveryMs})`);
  }
  const campaign = new Campaign(options, checkEveryMs);
  campaign.start();
  // A plain object, as callers have always had: its methods work detached from it.
  return {
    isLeader: () => campaign.isLeader(),
    token: () => campaign.token(),
    observeLease: (heldForMs) => campaign.observeLease(heldForMs),
    runJob: (jobName, intervalMs, fn) => campaign.runJob(jobName, intervalMs, fn),
    stop: () => campaign.stop(),
  };
}

type Report = (error: unknown, during: Parameters<NonNullable<LeaderElectionOptions["onError"]>>[1]) => void;

/**
 * One instance's part in the election: campaigning for the lease while it follows, renewing it and
 * running the jobs while it leads. One tick at a time does either (`tick`), each scheduling the next.
 */
class Campaign implements LeaderElection {
  private readonly pool: pg.Pool;
  private readonly holder: string;
  private readonly ttlMs: number;
  private readonly name: string;
  private readonly onElected: LeaderElectionOptions["onElected"];
  private readonly onDeposed: LeaderElectionOptions["onDeposed"];
  private readonly onError: LeaderElectionOptions["onError"];
  private readonly checkEveryMs: number;
  private readonly jobs = new Map<string, { intervalMs: number; fn: LeaderJob }>();
  private term: Term | null = null;
  // The previous term's jobs winding down, and its release; awaited before campaigning again.
  private ending: Promise<void> = Promise.resolve();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private inTick = false;

  constructor(options: LeaderElectionOptions, checkEveryMs: number) {
    this.pool = options.pool;
    this.holder = options.holder;
    this.ttlMs = options.ttlMs;
    this.name = options.name ?? "leader";
    this.onElected = options.onElected;
    this.onDeposed = options.onDeposed;
    this.onError = options.onError;
    this.checkEveryMs = checkEveryMs;
  }

  /** The first tick, at once. */
  start(): void {
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.term !== null;
  }

  token(): bigint | null {
    return this.term?.lease.token ?? null;
  }

  observeLease(heldForMs: number | null): void {
    if (this.stopped || this.term || this.inTick) return;
    clearTimeout(this.tickTimer);
    this.schedule(heldForMs === null ? 0 : untilLapsed(heldForMs));
  }

  runJob(jobName: string, intervalMs: number, fn: LeaderJob): void {
    if (this.jobs.has(jobName)) throw new Error(`Leader job ${jobName} is already registered`);
    if (!(intervalMs > 0)) throw new RangeError(`Leader job ${jobName} needs a positive interval`);
    this.jobs.set(jobName, { intervalMs, fn });
    if (this.term) this.startJob(this.term, jobName, intervalMs, fn);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      clearTimeout(this.tickTimer);
      await this.tickSettledOrTtl();
      await this.depose("stopped");
    })();
    return this.stopping;
  }

  /**
   * Waits for the tick under way, but no longer than the TTL: a tick stuck on an unreachable
   * database must not hold shutdown past it; if it later acquires, it sees `stopped` and releases.
   */
  private async tickSettledOrTtl(): Promise<void> {
    const settled = new AbortController();
    await Promise.race([this.ticking.finally(() => settled.abort()), abortableSleep(this.ttlMs, settled.signal)]);
  }

  private readonly report: Report = (error, during) => this.onError?.(error, during);

  /** The next tick in `delay`; each tick schedules the one after it until stop(). */
  private schedule(delay: number): void {
    this.tickTimer = setTimeout(() => this.runTick(), delay);
  }

  private runTick(): void {
    let next = this.checkEveryMs;
    this.inTick = true;
    this.ticking = this.tick()
      .then((delay) => void (next = delay))
      .finally(() => {
        this.inTick = false;
        if (!this.stopped) this.schedule(next);
      });
  }

  /** The leader renews, a follower campaigns, once the previous term has ended. Returns the delay until the next tick. */
  private async tick(): Promise<number> {
    await this.ending;
    if (this.stopped) return this.checkEveryMs;
    const current = this.term;
    if (!current) return this.campaign();
    await this.renew(current);
    return this.checkEveryMs;
  }

  /** The leader renews its lease; losing it, or failing to renew before it expires (the deadline), deposes it. */
  private async renew(current: Term): Promise<void> {
    try {
      const renewed = await renewLease(this.pool, current.lease);
      if (this.term !== current) return; // deposed by the deadline meanwhile
      if (!renewed) void this.depose("lost");
      else {
        current.lease = renewed;
        this.armDeadline(current);
      }
    } catch (error) {
      this.report(error, "renew"); // retried next tick; the deadline deposes if none succeeds in time
    }
  }

  /** A follower tries to take the lease. Returns the delay until the next tick. */
  private async campaign(): Promise<number> {
    try {
      const { lease, heldForMs } = await tryAcquireLease(this.pool, this.name, { holder: this.holder, ttlMs: this.ttlMs });
      if (lease && this.stopped) await releaseLease(this.pool, lease);
      else if (lease) this.elect(lease);
      // A follower wakes just after the leader's lease would lapse: a crashed leader is replaced
      // about as soon as the database lets anyone replace it, and a live one costs a follower one
      // statement per lease period rather than three.
      else if (heldForMs !== null) return Math.min(2 * this.checkEveryMs, untilLapsed(heldForMs));
    } catch (error) {
      this.report(error, "acquire");
    }
    return this.checkEveryMs;
  }

  private elect(lease: Lease): void {
    const current: Term = { lease, controller: new AbortController(), jobs: [] };
    // Every job waits on this signal between runs: a dozen jobs are expected, not a leak.
    setMaxListeners(100, current.controller.signal);
    this.term = current;
    this.armDeadline(current);
    try {
      this.onElected?.(lease.token, current.controller.signal);
    } catch (error) {
      this.report(error, "callback");
    }
    for (const [jobName, job] of this.jobs) this.startJob(current, jobName, job.intervalMs, job.fn);
  }

  /** Leadership ends by itself when the lease would have expired unless a renewal confirms it first. */
  private armDeadline(current: Term): void {
    clearTimeout(current.deadline);
    current.deadline = setTimeout(() => void this.depose("unconfirmed"), current.lease.validUntil - performance.now());
  }

  private startJob(current: Term, jobName: string, intervalMs: number, fn: LeaderJob): void {
    current.jobs.push(runJobWhileLeading(current, jobName, intervalMs, fn, this.report));
  }

  private depose(reason: DeposedReason): Promise<void> {
    const current = this.term;
    if (!current) return this.ending;
    this.term = null;
    clearTimeout(current.deadline);
    current.controller.abort(
      reason === "stopped" ? new Error(`Leadership of ${this.name} stopped`) : new LeaseLostError(this.name, reason),
    );
    try {
      this.onDeposed?.(reason);
    } catch (error) {
      this.report(error, "callback");
    }
    this.ending = this.endTerm(current, reason);
    return this.ending;
  }

  /**
   * Releases the lease only after the term's jobs have returned, so that no successor runs them
   * alongside ours. After "lost" the lease is not ours to release.
   */
  private endTerm(current: Term, reason: DeposedReason): Promise<void> {
    return Promise.allSettled(current.jobs).then(async () => {
      if (reason === "lost") return;
      await releaseLease(this.pool, current.lease).catch((error) => this.report(error, "release"));
    });
  }
}

/** A follower's wait until just after a lease held for `heldForMs` more would lapse. */
function untilLapsed(heldForMs: number): number {
  return Math.max(FOLLOWER_MIN_WAIT_MS, heldForMs + FOLLOWER_MIN_WAIT_MS);
}

/** Runs `fn` at once and then `intervalMs` after each run ends, until the term's signal aborts. */
async function runJobWhileLeading(
  current: Term,
  jobName: string,
  intervalMs: number,
  fn: LeaderJob,
  report: Report,
): Promise<void> {
  const { signal } = current.controller;
  // Bounded by the term: every wait ends when the signal aborts.
  while (!signal.aborted) {
    try {
      await fn(current.lease.token, signal);
    } catch (error) {
      if (!signal.aborted) report(new Error(`Leader job ${jobName} failed`, { cause: error }), "job");
    }
    await abortableSleep(intervalMs, signal);
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts; leaves no timer behind. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
