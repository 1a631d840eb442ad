// Batch API metrics. The queue gauges are fleet-wide numbers read from the job table by the leader
// alone (lib/control-plane/scaling/queue-sampler.ts), so they carry scope="fleet" and only the
// leader exposes them: an instance that is not leading, or whose last reading is stale, reports no
// series at all rather than a zero or an old count. Summing them over instances would count the
// queue once per leader scrape overlap; the adapter rule and alerts take max() over instances.
// The job counters are per instance: each worker counts the jobs it finished.
import client from "prom-client";
import { metric, registry } from "./registry";

export interface FleetQueueReading {
  queued: number;
  running: number;
  oldestQueuedAgeSeconds: number | null;
}

let latest: { reading: FleetQueueReading; at: number; maxAgeMs: number } | null = null;

/** The label every queue series carries: fleet-wide, as the leader read it. */
const FLEET = { scope: "fleet" } as const;

function fleetGauge(name: string, help: string, pick: (r: FleetQueueReading) => number | null) {
  return metric(
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

fleetGauge("agenticorp_batch_jobs_queued", "Batch jobs (input lines) waiting for a worker, fleet-wide; exposed by the leader only (scope=\"fleet\").", (r) => r.queued);
fleetGauge("agenticorp_batch_jobs_running", "Batch jobs claimed by a worker and not finished, fleet-wide; exposed by the leader only (scope=\"fleet\").", (r) => r.running);
fleetGauge(
  "agenticorp_batch_oldest_queued_job_age_seconds",
  "Age of the oldest queued batch job, fleet-wide; exposed by the leader only (scope=\"fleet\"), and only while a job is queued.",
  (r) => r.oldestQueuedAgeSeconds,
);

/**
 * The leader's latest reading of the queue (null: leadership ended, stop exposing it). Readings
 * older than `maxAgeMs` are not exposed: a leader whose database reads fail goes quiet, not stale.
 */
export function reportFleetQueue(reading: FleetQueueReading | null, maxAgeMs = 30_000): void {
  latest = reading ? { reading, at: performance.now(), maxAgeMs } : null;
}

export const BATCH_JOB_OUTCOMES = ["completed", "failed"] as const;
export type BatchJobOutcome = (typeof BATCH_JOB_OUTCOMES)[number];

const batchJobsFinished = metric(
  "agenticorp_batch_jobs_finished_total",
  () =>
    new client.Counter({
      name: "agenticorp_batch_jobs_finished_total",
      help: "Batch jobs this instance's worker finished, by outcome: completed (answered 2xx, to the output file) or failed (to the error file).",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
);
for (const outcome of BATCH_JOB_OUTCOMES) batchJobsFinished.inc({ outcome }, 0);

/** A worker finished a job with an answer for the output file. */
export function recordBatchJobCompleted(count = 1): void {
  batchJobsFinished.inc({ outcome: "completed" }, count);
}

/** A worker finished a job with an error for the error file. */
export function recordBatchJobFailed(count = 1): void {
  batchJobsFinished.inc({ outcome: "failed" }, count);
}
