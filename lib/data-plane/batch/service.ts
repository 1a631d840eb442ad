// What the Batch API's routes need in one place: the pool, the limits, and what happens once a batch
// is created (validated here, in the background, then this instance's worker is woken to claim it).
import type pg from "pg";
import type { Logger } from "pino";
import { validateBatch } from "./batch-store";

export { BATCH_QUEUE_CHANNEL } from "./channel";

export interface BatchLimits {
  maxFileBytes: number;
  maxLines: number;
}

export class BatchService {
  private worker: { wake(): void } | undefined;

  constructor(
    readonly pool: pg.Pool,
    readonly limits: BatchLimits,
    private readonly logger: Logger,
  ) {}

  /** The worker to wake when a batch validated here has jobs (none when WORKER_ENABLED=false). */
  attachWorker(worker: { wake(): void }): void {
    this.worker = worker;
  }

  /** Another instance queued lines (a notification on BATCH_QUEUE_CHANNEL). */
  queued(): void {
    this.worker?.wake();
  }

  /** Validates a new batch off the request; if this instance dies first, the leader's sweep does it. */
  created(batchId: string): void {
    setImmediate(() => {
      validateBatch(this.pool, batchId, this.limits.maxLines)
        .then(() => this.worker?.wake())
        .catch((error: Error) =>
          this.logger.warn({ err: error.message, batch_id: batchId }, "validating a batch failed; the leader's sweep will retry"),
        );
    });
  }
}
