// The batch worker every instance runs (unless WORKER_ENABLED=false): claims a few jobs at a time from
// the fleet's queue, runs each through this instance's own API (executor.ts), and writes the results in
// fenced groups. It yields to live traffic — no claims while live requests in flight or their p95
// latency are above the configured marks, and its concurrency halves after an upstream 429 and grows
// back by one a second — and it polls an empty queue with exponential back-off, so an idle instance
// costs the database one short statement every BATCH_POLL_MAX_MS.
import type pg from "pg";
import type { Logger } from "pino";
import { batchJobsFinished, batchJobsReleased, batchWorkerActive, batchWorkerLimit } from "../../platform/metrics/batch";
import { finalizeBatch } from "./batch-store";
import type { Executor } from "./executor";
import type { LoadSignals } from "./load-signals";
import { claimJobs, drainedBatches, finishJobs, releaseJobs, renewLeases, type ClaimedJob, type FinishedJob } from "./queue";

export interface WorkerOptions {
  pool: pg.Pool;
  /** Unique per process: the lease owner written on claimed jobs. */
  owner: string;
  concurrency: number;
  leaseMs: number;
  pollMaxMs: number;
  maxAttempts: number;
  yieldInFlight: number;
  yieldP95Ms: number;
  /** Live (interactive) requests in flight on this instance now. */
  liveInFlight: () => number;
  load: LoadSignals;
  execute: Executor;
  logger: Logger;
  /** The clock for back-off decisions (tests); performance.now() by default. */
  now?: () => number;
}

const MIN_POLL_MS = 50;
/** Results are written in groups: this many, or whatever gathered within FLUSH_MS. */
const FLUSH_GROUP = 64;
const FLUSH_MS = 20;
/** Longest pause after a 429 before claiming again. */
const MAX_RATE_PAUSE_MS = 10_000;

interface Held {
  job: ClaimedJob;
  /** Set once the job ran (its result waits for the next flush). */
  done: boolean;
}

export class BatchWorker {
  private readonly held = new Map<string, Held>();
  private executing = 0;
  private stopped = false;
  private limit: number;
  private readonly now: () => number;
  private limitChangedAt: number;
  private seen429s = 0;
  private pauseUntil = 0;
  private pending: FinishedJob[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  /** Jobs this worker answered (results written), for benchmarks and tests. */
  finishedCount = 0;

  constructor(private readonly options: WorkerOptions) {
    this.limit = options.concurrency;
    this.now = options.now ?? (() => performance.now());
    this.limitChangedAt = this.now();
  }

  start(): void {
    if (this.loop) return;
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(this.options.leaseMs / 3)));
    this.renewTimer.unref();
    this.loop = this.run();
  }

  /** Claim now rather than after the current poll back-off (a batch was just validated here). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops claiming, lets running jobs finish until `deadlineMs`, writes their results, and puts back what is left. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
    const deadline = performance.now() + deadlineMs;
    while (this.executing > 0 && performance.now() < deadline) await this.sleep(50);
    await this.flush();
    clearInterval(this.renewTimer);
    const unfinished = [...this.held.values()].filter((h) => !h.done).map((h) => h.job);
    if (unfinished.length > 0) {
      await releaseJobs(this.options.pool, this.options.owner, unfinished).catch(() => 0);
      batchJobsReleased.inc(unfinished.length);
    }
    batchWorkerLimit.set(0);
  }

  /** Jobs that may run at once right now (0 while yielding to live traffic). */
  currentLimit(): number {
    const { load, concurrency } = this.options;
    const now = this.now();
    if (load.upstream429Count !== this.seen429s) {
      this.seen429s = load.upstream429Count;
      if (now - this.limitChangedAt >= 1_000) {
        this.limit = Math.max(1, Math.floor(this.limit / 2));
        this.limitChangedAt = now;
      }
    } else if (this.limit < concurrency && now - this.limitChangedAt >= 1_000 && load.sinceLast429Ms() >= 1_000) {
      this.limit++;
      this.limitChangedAt = now;
    }
    let allowed = this.limit;
    if (this.stopped || now < this.pauseUntil) allowed = 0;
    else if (this.options.liveInFlight() > this.options.yieldInFlight) allowed = 0;
    else {
      const p95 = load.liveP95Ms();
      if (p95 !== null && p95 > this.options.yieldP95Ms) allowed = 0;
    }
    batchWorkerLimit.set(allowed);
    return allowed;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async run(): Promise<void> {
    let idleMs = MIN_POLL_MS;
    while (!this.stopped) {
      const limit = this.currentLimit();
      const free = limit - this.executing;
      // Claims wait for a quarter of the slots to be free, so a busy worker claims in groups, not one by one.
      if (limit === 0 || free <= 0 || (this.executing > 0 && free < Math.ceil(limit / 4))) {
        await this.sleep(limit === 0 ? 250 : 100);
        continue;
      }
      let jobs: ClaimedJob[];
      try {
        jobs = await claimJobs(this.options.pool, this.options.owner, free, this.options.leaseMs);
      } catch (error) {
        this.options.logger.warn({ err: (error as Error).message }, "claiming batch jobs failed");
        idleMs = Math.min(idleMs * 2, this.options.pollMaxMs);
        await this.sleep(idleMs);
        continue;
      }
      if (jobs.length === 0) {
        await this.sleep(idleMs);
        idleMs = Math.min(idleMs * 2, this.options.pollMaxMs);
        continue;
      }
      idleMs = MIN_POLL_MS;
      for (const job of jobs) void this.runJob(job);
    }
  }

  private async runJob(job: ClaimedJob): Promise<void> {
    this.held.set(job.id, { job, done: false });
    this.executing++;
    batchWorkerActive.set(this.executing);
    try {
      const outcome = await this.outcomeOf(job);
      if (outcome === "release" || outcome === "retry") {
        this.held.delete(job.id);
        await releaseJobs(this.options.pool, this.options.owner, [job], outcome === "retry").catch((error: Error) =>
          this.options.logger.warn({ err: error.message }, "putting a batch job back failed; its lease will expire"),
        );
        batchJobsReleased.inc();
        return;
      }
      this.held.get(job.id)!.done = true;
      this.pending.push({ job, outcome });
      this.scheduleFlush();
    } finally {
      this.executing--;
      batchWorkerActive.set(this.executing);
      this.wake();
    }
  }

  /** What to do with a claimed job: its result, or put it back (unrun: "release"; counted as an attempt: "retry"). */
  private async outcomeOf(job: ClaimedJob): Promise<FinishedJob["outcome"] | "release" | "retry"> {
    if (job.stop) return { status: job.stop };
    if (job.attempt > this.options.maxAttempts) {
      return {
        status: "failed",
        response: null,
        error: { code: "too_many_attempts", message: `The request was claimed ${job.attempt - 1} times without an answer.` },
      };
    }
    let execution;
    try {
      execution = await this.options.execute(job);
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message, batch_id: job.batchId }, "running a batch job failed");
      return job.attempt < this.options.maxAttempts
        ? "retry"
        : { status: "failed", response: null, error: { code: "internal_error", message: "The request could not be run." } };
    }
    const response = { status_code: execution.statusCode, request_id: execution.requestId, body: execution.body };
    if (execution.statusCode === 429) {
      // The key's batch budget, or every upstream, is exhausted for now: wait, and try the job again later.
      this.pauseUntil = Math.max(
        this.pauseUntil,
        this.now() + Math.min((execution.retryAfterSeconds ?? 1) * 1_000, MAX_RATE_PAUSE_MS),
      );
      return "release";
    }
    if (execution.statusCode >= 500 && job.attempt < this.options.maxAttempts) return "retry";
    return { status: execution.statusCode < 300 ? "succeeded" : "failed", response, error: null };
  }

  private scheduleFlush(): void {
    if (this.pending.length >= FLUSH_GROUP) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      void this.flush();
    } else {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        void this.flush();
      }, FLUSH_MS);
    }
  }

  /** Writes the gathered results (one statement), then finalizes the batches they finished. Serialised. */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const group = this.pending;
      if (group.length === 0) return;
      this.pending = [];
      let written: FinishedJob[];
      try {
        written = await finishJobs(this.options.pool, this.options.owner, group);
      } catch (error) {
        // Kept for the next flush; the leases are renewed meanwhile.
        this.pending.unshift(...group);
        this.options.logger.warn({ err: (error as Error).message }, "writing batch results failed; retrying");
        setTimeout(() => this.scheduleFlush(), 500).unref();
        return;
      }
      for (const finished of group) this.held.delete(finished.job.id);
      this.finishedCount += written.length;
      for (const finished of written) batchJobsFinished.inc({ outcome: finished.outcome.status });
      const batches = [...new Set(written.map((f) => f.job.batchId))];
      for (const batchId of await drainedBatches(this.options.pool, batches).catch(() => [])) {
        finalizeBatch(this.options.pool, batchId).catch((error: Error) =>
          this.options.logger.warn(
            { err: error.message, batch_id: batchId },
            "finalizing a batch failed; the leader's sweep will retry",
          ),
        );
      }
    });
    return this.flushing;
  }

  /** Extends the leases of every job in hand; jobs taken over meanwhile are dropped (their results would be refused). */
  private async renew(): Promise<void> {
    const jobs = [...this.held.values()].map((h) => h.job);
    if (jobs.length === 0) return;
    try {
      const kept = await renewLeases(this.options.pool, this.options.owner, jobs, this.options.leaseMs);
      for (const job of jobs)
        if (!kept.has(job.id) && this.held.get(job.id)?.done === false)
          this.options.logger.warn({ batch_id: job.batchId }, "a batch job's lease was lost");
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, "renewing batch job leases failed");
    }
  }
}
