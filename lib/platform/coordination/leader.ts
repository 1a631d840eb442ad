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
  const { pool, holder, ttlMs, name = "leader", onElected, onDeposed, onError } = options;
  const checkEveryMs = options.checkEveryMs ?? ttlMs / 3;
  if (!(checkEveryMs > 0 && checkEveryMs < ttlMs / 2)) {
    throw new RangeError(`checkEveryMs must be positive and under half the TTL (got ${checkEveryMs})`);
  }
  const jobs = new Map<string, { intervalMs: number; fn: LeaderJob }>();
  let term: Term | null = null;
  // The previous term's jobs winding down, and its release; awaited before campaigning again.
  let ending: Promise<void> = Promise.resolve();
  let stopped = false;
  let tickTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> = Promise.resolve();

  const report = (error: unknown, during: Parameters<NonNullable<typeof onError>>[1]) => onError?.(error, during);

  function startJob(current: Term, jobName: string, intervalMs: number, fn: LeaderJob) {
    const { signal } = current.controller;
    const loop = async () => {
      // Bounded by the term: every wait ends when the signal aborts.
      while (!signal.aborted) {
        try {
          await fn(current.lease.token, signal);
        } catch (error) {
          if (!signal.aborted) report(new Error(`Leader job ${jobName} failed`, { cause: error }), "job");
        }
        await abortableSleep(intervalMs, signal);
      }
    };
    current.jobs.push(loop());
  }

  function armDeadline(current: Term) {
    clearTimeout(current.deadline);
    current.deadline = setTimeout(() => void depose("unconfirmed"), current.lease.validUntil - performance.now());
  }

  function elect(lease: Lease) {
    const current: Term = { lease, controller: new AbortController(), jobs: [] };
    // Every job waits on this signal between runs: a dozen jobs are expected, not a leak.
    setMaxListeners(100, current.controller.signal);
    term = current;
    armDeadline(current);
    try {
      onElected?.(lease.token, current.controller.signal);
    } catch (error) {
      report(error, "callback");
    }
    for (const [jobName, job] of jobs) startJob(current, jobName, job.intervalMs, job.fn);
  }

  function depose(reason: DeposedReason): Promise<void> {
    const current = term;
    if (!current) return ending;
    term = null;
    clearTimeout(current.deadline);
    current.controller.abort(
      reason === "stopped" ? new Error(`Leadership of ${name} stopped`) : new LeaseLostError(name, reason),
    );
    try {
      onDeposed?.(reason);
    } catch (error) {
      report(error, "callback");
    }
    // Release only after the jobs have returned, so that no successor runs them alongside ours.
    // After "lost" the lease is not ours to release.
    ending = Promise.allSettled(current.jobs).then(async () => {
      if (reason === "lost") return;
      await releaseLease(pool, current.lease).catch((error) => report(error, "release"));
    });
    return ending;
  }

  /** Returns the delay until the next tick. */
  async function tick(): Promise<number> {
    await ending;
    if (stopped) return checkEveryMs;
    const current = term;
    if (current) {
      try {
        const renewed = await renewLease(pool, current.lease);
        if (term !== current) return checkEveryMs; // deposed by the deadline meanwhile
        if (!renewed) void depose("lost");
        else {
          current.lease = renewed;
          armDeadline(current);
        }
      } catch (error) {
        report(error, "renew"); // retried next tick; the deadline deposes if none succeeds in time
      }
      return checkEveryMs;
    }
    try {
      const { lease, heldForMs } = await tryAcquireLease(pool, name, { holder, ttlMs });
      if (lease && stopped) await releaseLease(pool, lease);
      else if (lease) elect(lease);
      // A follower wakes just after the leader's lease would lapse: a crashed leader is replaced
      // about as soon as the database lets anyone replace it, and a live one costs a follower one
      // statement per lease period rather than three.
      else if (heldForMs !== null)
        return Math.min(2 * checkEveryMs, Math.max(FOLLOWER_MIN_WAIT_MS, heldForMs + FOLLOWER_MIN_WAIT_MS));
    } catch (error) {
      report(error, "acquire");
    }
    return checkEveryMs;
  }

  let inTick = false;
  function schedule(delay: number) {
    tickTimer = setTimeout(() => {
      let next = checkEveryMs;
      inTick = true;
      ticking = tick()
        .then((delay) => void (next = delay))
        .finally(() => {
          inTick = false;
          if (!stopped) schedule(next);
        });
    }, delay);
  }
  schedule(0);

  let stopping: Promise<void> | undefined;
  return {
    isLeader: () => term !== null,
    token: () => term?.lease.token ?? null,
    observeLease(heldForMs) {
      if (stopped || term || inTick) return;
      clearTimeout(tickTimer);
      schedule(heldForMs === null ? 0 : Math.max(FOLLOWER_MIN_WAIT_MS, heldForMs + FOLLOWER_MIN_WAIT_MS));
    },
    runJob(jobName, intervalMs, fn) {
      if (jobs.has(jobName)) throw new Error(`Leader job ${jobName} is already registered`);
      if (!(intervalMs > 0)) throw new RangeError(`Leader job ${jobName} needs a positive interval`);
      jobs.set(jobName, { intervalMs, fn });
      if (term) startJob(term, jobName, intervalMs, fn);
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearTimeout(tickTimer);
        // A tick stuck on an unreachable database must not hold shutdown past the TTL; if it later
        // acquires, it sees `stopped` and releases.
        const settled = new AbortController();
        await Promise.race([ticking.finally(() => settled.abort()), abortableSleep(ttlMs, settled.signal)]);
        await depose("stopped");
      })();
      return stopping;
    },
  };
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
