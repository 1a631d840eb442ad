// The batch queue as scaling sees it: the fleet-wide counts the leader reads from the job table
// (lib/data-plane/batch/queue-stats.ts). One type and a reader that never throws: a queue that
// cannot be read is a metric without data (the HPA then never scales down on the other metrics
// alone), not a failed decision.
export interface QueueStats {
  queued: number;
  running: number;
  oldestQueuedAgeSeconds: number | null;
}

export type QueueStatsReader = () => Promise<QueueStats>;

/** Reads the queue; null (and `onError` told) when it cannot be read. */
export async function readQueueOrNull(read: QueueStatsReader, onError?: (error: Error) => void): Promise<QueueStats | null> {
  try {
    return await read();
  } catch (error) {
    onError?.(error as Error);
    return null;
  }
}
