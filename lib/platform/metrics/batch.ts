// Batch API metrics. The queue gauges are fleet-wide numbers read from the job table by the leader
// alone (lib/control-plane/scaling/queue-sampler.ts), so they carry scope="fleet" and only the
// leader exposes them: an instance that is not leading, or whose last reading is stale, reports no
// series at all rather than a zero or an old count. Summed over instances they would count the
// queue once per instance that reports it; the adapter rule and dashboards take max() over
// instances, which also reads it once while a scrape overlaps a change of leader. The counters
// and worker gauges are this instance's own.
import client from "prom-client";
import { metric, registry } from "./registry";

const BATCH_JOB_OUTCOMES = ["succeeded", "failed", "cancelled", "expired"] as const;

export const batchJobsFinished = metric(
  "agenticorp_batch_jobs_finished_total",
  () =>
    new client.Counter<"outcome">({
      name: "agenticorp_batch_jobs_finished_total",
      help: "Batch jobs this instance answered, by outcome: succeeded (2xx, output file), failed (error file), cancelled, expired.",
      labelNames: ["outcome"],
      registers: [registry],
    }),
);
for (const outcome of BATCH_JOB_OUTCOMES) batchJobsFinished.inc({ outcome }, 0);

export const batchJobsReleased = metric(
  "agenticorp_batch_jobs_released_total",
  () =>
    new client.Counter({
      name: "agenticorp_batch_jobs_released_total",
      help: "Batch jobs this instance put back in the queue unrun (rate limited by the key's batch budget or an upstream 429, or stopping).",
      registers: [registry],
    }),
);

export const batchWorkerActive = metric(
  "agenticorp_batch_worker_active",
  () =>
    new client.Gauge({
      name: "agenticorp_batch_worker_active",
      help: "Batch jobs this instance is running now.",
      registers: [registry],
    }),
);

export const batchWorkerLimit = metric(
  "agenticorp_batch_worker_limit",
  () =>
    new client.Gauge({
      name: "agenticorp_batch_worker_limit",
      help: "Batch jobs this instance may run at once now: WORKER_CONCURRENCY, lowered after upstream 429s, 0 while yielding to live traffic or disabled.",
      registers: [registry],
    }),
);

export interface FleetQueueReading {
  queued: number;
  running: number;
  oldestQueuedAgeSeconds: number | null;
}

let latest: { reading: FleetQueueReading; at: number; maxAgeMs: number } | null = null;

/** The label every queue series carries: fleet-wide, as the leader read it. */
const FLEET = { scope: "fleet" } as const;

function fleetGauge(name: string, help: string, pick: (r: FleetQueueReading) => number | null): void {
  metric(
    name,
    () =>
      new client.Gauge({
        name,
        help,
        labelNames: ["scope"] as const,
        registers: [registry],
        collect() {
          this.reset();
          if (!latest || performance.now() - latest.at > latest.maxAgeMs) return;
          const value = pick(latest.reading);
          if (value !== null) this.set(FLEET, value);
        },
      }),
  );
}

fleetGauge(
  "agenticorp_batch_jobs_queued",
  'Batch jobs waiting to be claimed, fleet-wide; exposed by the leader only (scope="fleet").',
  (r) => r.queued,
);
fleetGauge(
  "agenticorp_batch_jobs_running",
  'Batch jobs claimed under a lease, fleet-wide; exposed by the leader only (scope="fleet").',
  (r) => r.running,
);
fleetGauge(
  "agenticorp_batch_oldest_queued_age_seconds",
  'Age of the oldest batch job waiting to be claimed, fleet-wide; exposed by the leader only (scope="fleet"), and only while a job waits.',
  (r) => r.oldestQueuedAgeSeconds,
);

/**
 * The leader's latest reading of the queue (null: leadership ended, stop exposing it). Readings
 * older than `maxAgeMs` are not exposed: a leader whose database reads fail goes quiet, not stale.
 */
export function reportFleetQueue(reading: FleetQueueReading | null, maxAgeMs = 30_000): void {
  latest = reading ? { reading, at: performance.now(), maxAgeMs } : null;
}
