// Builds this process's batch worker from the configuration (none when WORKER_ENABLED=false). The
// fleet-wide queue gauges are the leader's (lib/control-plane/scaling/queue-sampler.ts).
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../../platform/config";
import type { Database } from "../../platform/db/client";
import type { Gateway } from "../gateway/create";
import { injectExecutor } from "./executor";
import { BatchWorker } from "./worker";

export interface BatchWorkerContext {
  config: Config;
  database: Database;
  gateway: Gateway;
  /** The app whose routes run the lines (its gateway routes registered). */
  app: FastifyInstance;
  /** Live requests in flight on this instance. */
  liveInFlight: () => number;
  logger: Logger;
}

export function createBatchWorker({
  config,
  database,
  gateway,
  app,
  liveInFlight,
  logger,
}: BatchWorkerContext): BatchWorker | undefined {
  if (!config.WORKER_ENABLED) return undefined;
  const worker = new BatchWorker({
    pool: database.pool,
    // Unique per process: a restarted instance with the same id never takes an old claim for its own.
    owner: `${config.INSTANCE_ID}#${randomUUID().slice(0, 8)}`,
    concurrency: config.WORKER_CONCURRENCY,
    leaseMs: config.BATCH_JOB_LEASE_MS,
    pollMaxMs: config.BATCH_POLL_MAX_MS,
    maxAttempts: config.BATCH_MAX_ATTEMPTS,
    yieldInFlight: config.WORKER_YIELD_IN_FLIGHT,
    yieldP95Ms: config.WORKER_YIELD_P95_MS,
    liveInFlight,
    load: gateway.load,
    execute: injectExecutor(app),
    logger,
  });
  gateway.batch.attachWorker(worker);
  return worker;
}
