// This instance's part of observability, started by boot: names the instance and its live
// numbers for /metrics, and writes a snapshot of its registry to PostgreSQL every
// SNAPSHOT_INTERVAL_MS (lib/platform/metrics-history/writer.ts). Stopping writes a last snapshot, so
// what was served until the drain ended is counted.
import type { Logger } from "pino";
import type { Config } from "../config";
import type { Database } from "../db/client";
import { cacheRequests, cacheSharedWrites, CACHE_SHARED_WRITE_OUTCOMES } from "../metrics/gateway";
import { reportOpenConnectionsFrom } from "../metrics/http";
import { reportInstanceIdentity, reportPolicyMinReplicasFrom } from "../metrics/instance";
import { registry } from "../metrics/registry";
import { VERSION } from "../version";
import { writeSnapshot } from "./store";
import { SnapshotWriter } from "./writer";
import "../metrics/db";
import "../metrics/process";

export interface ObservabilityOptions {
  config: Config;
  database: Database;
  logger: Logger;
  /** True once migrations are applied: snapshots queue until then. */
  ready: () => boolean;
  openConnections: () => number;
  /** The active scaling policy's minimum instance count (the default one without an active policy). */
  policyMinReplicas: () => number;
}

export interface Observability {
  writer: SnapshotWriter;
  /** Writes a last snapshot (and whatever is still buffered), then stops. */
  stop(): Promise<void>;
}

export function startObservability({
  config,
  database,
  logger,
  ready,
  openConnections,
  policyMinReplicas,
}: ObservabilityOptions): Observability {
  reportInstanceIdentity(config.INSTANCE_ID, VERSION);
  reportOpenConnectionsFrom(openConnections);
  reportPolicyMinReplicasFrom(policyMinReplicas);
  // Present from the start, so Prometheus' rate() sees the first hit and miss too.
  for (const result of ["hit", "miss", "bypass"]) cacheRequests.inc({ result }, 0);
  for (const outcome of CACHE_SHARED_WRITE_OUTCOMES) cacheSharedWrites.inc({ outcome }, 0);
  const writer = new SnapshotWriter({
    registry,
    write: (snapshot) => writeSnapshot(database.pool, config.INSTANCE_ID, snapshot),
    intervalMs: config.SNAPSHOT_INTERVAL_MS,
    bufferMax: config.SNAPSHOT_BUFFER_MAX,
    ready,
    logger,
  });
  writer.start();
  return { writer, stop: () => writer.stop() };
}
