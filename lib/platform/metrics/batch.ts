// Batch queue metrics. The queue gauges are fleet-wide (read from PostgreSQL when Prometheus scrapes,
// at most once per QUEUE_READ_MS per instance, so idle instances add no steady load); the counters
// and worker gauges are this instance's own.
import client from "prom-client";
import { metric, registry } from "./registry";

export const BATCH_JOB_OUTCOMES = ["succeeded", "failed", "cancelled", "expired"] as const;

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
  () => new client.Gauge({ name: "agenticorp_batch_worker_active", help: "Batch jobs this instance is running now.", registers: [registry] }),
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

export interface QueueGaugeSource {
  queued: number;
  running: number;
  oldestQueuedAgeSeconds: number | null;
}

const QUEUE_READ_MS = 5_000;
let readQueue: (() => Promise<QueueGaugeSource>) | undefined;
let lastRead: { at: number; value: QueueGaugeSource | undefined; pending?: Promise<QueueGaugeSource | undefined> } = { at: -Infinity, value: undefined };

/** The latest queue figures, read again when older than QUEUE_READ_MS; the last known ones if the read fails. */
async function queueFigures(): Promise<QueueGaugeSource | undefined> {
  if (!readQueue) return undefined;
  if (performance.now() - lastRead.at < QUEUE_READ_MS) return lastRead.value;
  lastRead.pending ??= readQueue()
    .then((value) => (lastRead = { at: performance.now(), value }).value)
    .catch(() => {
      lastRead = { at: performance.now(), value: lastRead.value };
      return lastRead.value;
    });
  return lastRead.pending;
}

function queueGauge(name: string, help: string, pick: (figures: QueueGaugeSource) => number | null): void {
  // The metric() guard keeps one gauge per name however often this module is evaluated.
  metric(
    name,
    () =>
      new client.Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          const figures = await queueFigures();
          // Without figures (no database yet) the gauge keeps what it last showed.
          if (figures) this.set(pick(figures) ?? 0);
        },
      }),
  );
}

queueGauge("agenticorp_batch_jobs_queued", "Batch jobs waiting to be claimed, fleet-wide (from PostgreSQL).", (f) => f.queued);
queueGauge("agenticorp_batch_jobs_running", "Batch jobs claimed under a lease, fleet-wide (from PostgreSQL).", (f) => f.running);
queueGauge(
  "agenticorp_batch_oldest_queued_age_seconds",
  "Age of the oldest batch job waiting to be claimed, fleet-wide; 0 when none waits.",
  (f) => f.oldestQueuedAgeSeconds,
);

/** Names where the fleet-wide queue gauges read from (the process wires it at start). */
export function reportBatchQueueFrom(source: () => Promise<QueueGaugeSource>): void {
  readQueue = source;
  lastRead = { at: -Infinity, value: undefined };
}
