// The leader's reading of the batch queue every QUEUE_SAMPLE_INTERVAL_MS: one small query, off the
// request path, whose result the agenticorp_batch_* gauges expose (fleet-wide, leader only) for
// Prometheus, the adapter's External metric and the HPA. When leadership ends the gauges go quiet
// at once, so two instances never both claim to know the queue.
import type { Logger } from "pino";
import type { LeaderElection } from "../../platform/coordination/leader";
import { reportFleetQueue } from "../../platform/metrics/batch";
import type { QueueStatsReader } from "./queue-depth";

const QUEUE_SAMPLE_INTERVAL_MS = 10_000;

export interface QueueSamplerOptions {
  leader: Pick<LeaderElection, "runJob">;
  logger: Logger;
  readQueue: QueueStatsReader;
  intervalMs?: number;
}

export function registerQueueSampler({
  leader,
  logger,
  readQueue,
  intervalMs = QUEUE_SAMPLE_INTERVAL_MS,
}: QueueSamplerOptions): void {
  let failing = false;
  let term: AbortSignal | undefined;
  leader.runJob("batch-queue-sample", intervalMs, async (_token, signal) => {
    if (term !== signal) {
      term = signal;
      signal.addEventListener("abort", () => reportFleetQueue(null), { once: true });
    }
    try {
      const stats = await readQueue();
      if (signal.aborted) return;
      // Three missed readings and the series disappears rather than going stale.
      reportFleetQueue(stats, 3 * intervalMs);
      if (failing) logger.info("batch queue readable again");
      failing = false;
    } catch (error) {
      if (!failing && !signal.aborted)
        logger.warn(
          { err: (error as Error).message },
          "could not read the batch queue; its gauges go quiet until it can be read",
        );
      failing = true;
    }
  });
}
