// Vital signs of this process: memory, event-loop lag and CPU, read cheaply on demand.
import { monitorEventLoopDelay } from "node:perf_hooks";

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

export interface Vitals {
  rss_bytes: number;
  heap_used_bytes: number;
  event_loop_lag_ms: number;
  event_loop_lag_p99_ms: number;
}

export function readVitals(): Vitals {
  const memory = process.memoryUsage();
  const vitals = {
    rss_bytes: memory.rss,
    heap_used_bytes: memory.heapUsed,
    // The histogram measures delay beyond the sampling resolution, in nanoseconds.
    event_loop_lag_ms: round(loopDelay.mean / 1e6),
    event_loop_lag_p99_ms: round(loopDelay.percentile(99) / 1e6),
  };
  return vitals;
}

/** Starts a new lag window; called by whoever samples periodically (the heartbeat). */
export function resetEventLoopWindow(): void {
  loopDelay.reset();
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : 0;
}
