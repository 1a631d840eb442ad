// The vital signs each heartbeat carries beyond lib/platform/metrics/vitals.ts: CPU, request rate and the
// database pool, each measured over the interval since the previous heartbeat. Cheap on purpose:
// two counters and three pool fields, no sampling thread.
import type { Server } from "node:http";
import type pg from "pg";

export interface IntervalVitals {
  /** Share of one core used by this process since the last sample (100 = one full core). */
  cpu_percent: number;
  /** HTTP requests received per second since the last sample (data plane, probes and console). */
  requests_per_second: number;
  db_pool_total: number;
  /** Connections checked out of the pool right now. */
  db_pool_in_use: number;
  /** Callers queued for a connection right now: a sign DB_POOL_MAX is too small. */
  db_pool_waiting: number;
}

export function intervalVitalsSampler(server: Server, pool: pg.Pool): () => IntervalVitals {
  let requests = 0;
  server.on("request", () => requests++);
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  return () => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const elapsedMs = Math.max(1, now - lastAt);
    const sample: IntervalVitals = {
      cpu_percent: round(((cpu.user + cpu.system) / 1_000 / elapsedMs) * 100),
      requests_per_second: round((requests * 1_000) / elapsedMs),
      db_pool_total: pool.totalCount,
      db_pool_in_use: pool.totalCount - pool.idleCount,
      db_pool_waiting: pool.waitingCount,
    };
    lastCpu = process.cpuUsage();
    lastAt = now;
    requests = 0;
    return sample;
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
