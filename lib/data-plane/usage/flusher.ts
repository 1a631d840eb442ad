// Every USAGE_FLUSH_MS, takes what the accumulator counted and writes it, oldest flush first. A
// write that fails stays at the head of the queue and is retried as it was (same rows, same
// flush time), so an outage delays the numbers but neither loses nor double-counts them — up to
// `bufferMax` flushes, beyond which the oldest are dropped and counted. Only a timer: nothing per request.
import type { Logger } from "pino";
import type { UsageAccumulator } from "./accumulator";
import type { UsageBatch } from "./store";

export interface UsageFlusherOptions {
  accumulator: UsageAccumulator;
  write: (batch: UsageBatch) => Promise<void>;
  intervalMs: number;
  bufferMax: number;
  /** False until the tables exist (migrations applied): flushes queue meanwhile. */
  ready: () => boolean;
  logger: Logger;
  onDropped?: (rows: number) => void;
  now?: () => number;
}

const FAILURE_LOG_EVERY_MS = 60_000;

export class UsageFlusher {
  private readonly queue: UsageBatch[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastAt = 0;
  private lastFailureLog = 0;
  private readonly now: () => number;

  constructor(private readonly options: UsageFlusherOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Flushes waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush().catch(() => {}), this.options.intervalMs);
    this.timer.unref();
  }

  /** Queues what was counted since the last flush and writes the queue in order; rejects if a write failed. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left (best effort: rejects if the database refused). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing?.catch(() => {});
    await this.flush();
  }

  private takeBatch(): void {
    const rows = this.options.accumulator.take();
    if (rows.length === 0) return;
    // Strictly increasing per instance: the store's guard against counting a retried flush twice.
    this.lastAt = Math.max(this.now(), this.lastAt + 1);
    this.queue.push({ at: this.lastAt, rows });
    while (this.queue.length > this.options.bufferMax) this.options.onDropped?.(this.queue.shift()!.rows.length);
  }

  private async drain(): Promise<void> {
    this.takeBatch();
    if (!this.options.ready()) return;
    while (this.queue.length > 0) {
      try {
        await this.options.write(this.queue[0]!);
      } catch (error) {
        if (this.now() - this.lastFailureLog >= FAILURE_LOG_EVERY_MS) {
          this.lastFailureLog = this.now();
          this.options.logger.warn(
            { err: (error as Error).message, queued: this.queue.length },
            "usage not written; kept to retry",
          );
        }
        throw error;
      }
      this.queue.shift();
    }
  }
}
