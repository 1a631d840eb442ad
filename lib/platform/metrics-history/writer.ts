// Every SNAPSHOT_INTERVAL_MS, on the wall-clock boundary, reads the registry and queues a snapshot
// of what was counted since the last one; then writes the queue to PostgreSQL, oldest first. A
// write that fails leaves its snapshot at the head of the queue, retried at the next tick, so an
// outage delays the numbers but loses none — up to `bufferMax` snapshots (SNAPSHOT_BUFFER_MAX,
// default 360 × 10 s = 1 h); beyond that the oldest are dropped and counted. Nothing here runs
// per request: only timers.
import type { Logger } from "pino";
import type client from "prom-client";
import { snapshotsBuffered, snapshotsDropped, snapshotWriteFailures } from "../metrics/snapshots";
import { diffReadings, readRegistry, ZERO_READING, type Reading, type Snapshot } from "./snapshot";

export interface SnapshotWriterOptions {
  registry: client.Registry;
  /** Writes one snapshot; rejects when it could not. */
  write: (snapshot: Snapshot) => Promise<unknown>;
  intervalMs: number;
  bufferMax: number;
  /** False until the tables exist (migrations applied): snapshots queue meanwhile. */
  ready: () => boolean;
  logger: Logger;
  now?: () => number;
  /** Start of the first snapshot's period: counters start at zero with the process. */
  startedAt?: number;
}

const FAILURE_LOG_EVERY_MS = 60_000;

export class SnapshotWriter {
  private readonly queue: Snapshot[] = [];
  private previous: Reading = ZERO_READING;
  private periodStart: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private failingSince: number | undefined;
  private lastFailureLog = 0;
  private dropped = 0;
  private readonly now: () => number;

  constructor(private readonly options: SnapshotWriterOptions) {
    this.now = options.now ?? Date.now;
    this.periodStart = options.startedAt ?? Math.round(performance.timeOrigin);
  }

  /** Snapshots waiting to be written, oldest first. */
  get buffered(): readonly Snapshot[] {
    return this.queue;
  }

  start(): void {
    this.schedule();
  }

  /** Takes a snapshot now and queues it (dropping the oldest beyond the bound). */
  async capture(): Promise<Snapshot> {
    const reading = await readRegistry(this.options.registry, this.now());
    const snapshot = diffReadings(this.previous, reading, this.periodStart);
    this.previous = reading;
    this.periodStart = reading.at;
    this.queue.push(snapshot);
    while (this.queue.length > this.options.bufferMax) {
      this.queue.shift();
      this.dropped++;
      snapshotsDropped.inc();
    }
    snapshotsBuffered.set(this.queue.length);
    return snapshot;
  }

  /** Writes queued snapshots oldest first until the queue is empty or a write fails. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer, captures what was counted since the last snapshot, and tries to write it all. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flushing;
    await this.capture();
    await this.flush();
  }

  private schedule(): void {
    if (this.stopped) return;
    const interval = this.options.intervalMs;
    // On the boundary, so that each snapshot covers one bucket (see snapshotBucket).
    const delay = interval - (this.now() % interval);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  // Captures keep their rhythm whatever the writes do: a slow or hung write only delays writing.
  private async tick(): Promise<void> {
    try {
      await this.capture();
      this.flush().catch((error: Error) => this.options.logger.error({ err: error.message }, "metrics snapshot flush failed"));
    } catch (error) {
      this.options.logger.error({ err: (error as Error).message }, "metrics snapshot failed");
    } finally {
      this.schedule();
    }
  }

  private async drain(): Promise<void> {
    if (!this.options.ready()) return;
    let written = 0;
    while (this.queue.length > 0) {
      try {
        await this.options.write(this.queue[0]!);
      } catch (error) {
        snapshotWriteFailures.inc();
        this.failingSince ??= this.now();
        if (this.now() - this.lastFailureLog >= FAILURE_LOG_EVERY_MS) {
          this.lastFailureLog = this.now();
          this.options.logger.warn(
            { err: (error as Error).message, buffered: this.queue.length, dropped: this.dropped },
            "metrics snapshot not written; kept to retry",
          );
        }
        break;
      }
      this.queue.shift();
      written++;
    }
    snapshotsBuffered.set(this.queue.length);
    if (this.failingSince !== undefined && this.queue.length === 0) {
      this.options.logger.info(
        { written, outage_ms: this.now() - this.failingSince, dropped: this.dropped },
        "metrics snapshots written again",
      );
      this.failingSince = undefined;
      this.lastFailureLog = 0;
      this.dropped = 0;
    }
  }
}
