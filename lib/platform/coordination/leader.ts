// Leader election on one lease: every instance keeps trying to take the "leader" lease; the one
// that holds it renews it and runs the singleton jobs (reaping dead instances, rollups, alerts,
// scaling) until it is deposed or stops. Jobs get the leadership's token, to fence their writes,
// and its signal, which aborts the moment leadership ends.
import type pg from "pg";
import {
  acquireLease,
  LeaseLostError,
  releaseLease,
  renewLease,
  type Lease,
  type LeaseLostReason,
} from "./lease";

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
  /** How often a follower tries to take the lease and the leader renews it; default ttlMs / 3. */
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
  /** Stops campaigning; if leading, stops the jobs, waits for them, and releases the lease. */
  stop(): Promise<void>;
}

interface Term {
  lease: Lease;
  controller: AbortController;
  deadline?: NodeJS.Timeout;
  jobs: Promise<void>[];
}

export function startLeaderElection(options: LeaderElectionOptions): LeaderElection {
  const checkEveryMs = options.checkEveryMs ?? options.ttlMs / 3;
  if (!(checkEveryMs > 0 && checkEveryMs < options.ttlMs / 2)) {
    throw new RangeError(`checkEveryMs must be positive and under half the TTL (got ${checkEveryMs})`);
  }
  return new Campaign(options, checkEveryMs);
}

/** One instance's part in the election: campaigning while it follows, renewing and running the jobs while it leads. */
class Campaign implements LeaderElection {
  private readonly name: string;
  private readonly jobs = new Map<string, { intervalMs: number; fn: LeaderJob }>();
  private term: Term | null = null;
  // The previous term's jobs winding down, and its release; awaited before campaigning again.
  private ending: Promise<void> = Promise.resolve();
  private stopped = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: LeaderElectionOptions,
    private readonly checkEveryMs: number,
  ) {
    this.name = options.name ?? "leader";
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.term !== null;
  }

  token(): bigint | null {
    return this.term?.lease.token ?? null;
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
      // A tick stuck on an unreachable database must not hold shutdown past the TTL; if it later
      // acquires, it sees `stopped` and releases.
      const settled = new AbortController();
      await Promise.race([this.ticking.finally(() => settled.abort()), abortableSleep(this.options.ttlMs, settled.signal)]);
      await this.depose("stopped");
    })();
    return this.stopping;
  }

  private readonly report: Report = (error, during) => this.options.onError?.(error, during);

  private startJob(current: Term, jobName: string, intervalMs: number, fn: LeaderJob) {
    current.jobs.push(runJobWhileLeading(current, jobName, intervalMs, fn, this.report));
  }

  private armDeadline(current: Term) {
    clearTimeout(current.deadline);
    current.deadline = setTimeout(() => void this.depose("unconfirmed"), current.lease.validUntil - performance.now());
  }

  private elect(lease: Lease) {
    const current: Term = { lease, controller: new AbortController(), jobs: [] };
    this.term = current;
    this.armDeadline(current);
    try {
      this.options.onElected?.(lease.token, current.controller.signal);
    } catch (error) {
      this.report(error, "callback");
    }
    for (const [jobName, job] of this.jobs) this.startJob(current, jobName, job.intervalMs, job.fn);
  }

  private depose(reason: DeposedReason): Promise<void> {
    const current = this.term;
    if (!current) return this.ending;
    this.term = null;
    clearTimeout(current.deadline);
    current.controller.abort(reason === "stopped" ? new Error(`Leadership of ${this.name} stopped`) : new LeaseLostError(this.name, reason));
    try {
      this.options.onDeposed?.(reason);
    } catch (error) {
      this.report(error, "callback");
    }
    // Release only after the jobs have returned, so that no successor runs them alongside ours.
    // After "lost" the lease is not ours to release.
    this.ending = Promise.allSettled(current.jobs).then(async () => {
      if (reason === "lost") return;
      await releaseLease(this.options.pool, current.lease).catch((error) => this.report(error, "release"));
    });
    return this.ending;
  }

  /** The leader renews its lease; losing it, or failing to renew before it expires (the deadline), deposes it. */
  private async renew(current: Term) {
    try {
      const renewed = await renewLease(this.options.pool, current.lease);
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

  /** A follower tries to take the lease. */
  private async campaign() {
    const { pool, holder, ttlMs } = this.options;
    try {
      const lease = await acquireLease(pool, this.name, { holder, ttlMs });
      if (lease && this.stopped) await releaseLease(pool, lease);
      else if (lease) this.elect(lease);
    } catch (error) {
      this.report(error, "acquire");
    }
  }

  private async tick() {
    await this.ending;
    if (this.stopped) return;
    await (this.term ? this.renew(this.term) : this.campaign());
  }

  private schedule(delay: number) {
    this.tickTimer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        if (!this.stopped) this.schedule(this.checkEveryMs);
      });
    }, delay);
  }
}

type Report = (error: unknown, during: Parameters<NonNullable<LeaderElectionOptions["onError"]>>[1]) => void;

/** Runs `fn` at once and then `intervalMs` after each run ends, until the term's signal aborts. */
async function runJobWhileLeading(current: Term, jobName: string, intervalMs: number, fn: LeaderJob, report: Report): Promise<void> {
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
