// Shaping batch data for the Batches page and the overview's queue tile (prepare, then draw). Pure, client-safe.
import type { BatchDto, QueueStatsDto } from "./batch-contracts";

/** completed + failed of total, 0–1; null while the total is not known yet (validating). */
export function batchProgress(counts: BatchDto["requestCounts"]): number | null {
  return counts.total > 0 ? Math.min(1, (counts.completed + counts.failed) / counts.total) : null;
}

/** "1,234 of 20,000 (6%)", or "—" while the batch has no lines counted yet. */
export function progressText(counts: BatchDto["requestCounts"]): string {
  const share = batchProgress(counts);
  if (share === null) return "—";
  const done = counts.completed + counts.failed;
  return `${done.toLocaleString("en-US")} of ${counts.total.toLocaleString("en-US")} (${Math.floor(share * 100)}%)`;
}

/** "45 s", "12 min", "3.5 h"; "—" when nothing waits. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return "—";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5_400) return `${Math.round(seconds / 60)} min`;
  return `${Number((seconds / 3_600).toFixed(1))} h`;
}

/** The overview's tile: the queued count, or "—" when the queue could not be read (never a made-up 0). */
export function queueTileText(queue: QueueStatsDto | { error: string } | undefined): string {
  if (!queue || "error" in queue) return "—";
  return queue.queued.toLocaleString("en-US");
}
