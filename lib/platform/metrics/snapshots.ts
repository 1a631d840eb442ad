// The snapshot writer's own health: what it holds back while PostgreSQL is unreachable.
import client from "prom-client";
import { metric, registry } from "./registry";

export const snapshotsBuffered = metric(
  "agenticorp_metric_snapshots_buffered",
  () =>
    new client.Gauge({
      name: "agenticorp_metric_snapshots_buffered",
      help: "Metric snapshots taken but not yet written to PostgreSQL (bounded by SNAPSHOT_BUFFER_MAX).",
      registers: [registry],
    }),
);

export const snapshotWriteFailures = metric(
  "agenticorp_metric_snapshot_write_failures_total",
  () =>
    new client.Counter({
      name: "agenticorp_metric_snapshot_write_failures_total",
      help: "Attempts to write a metric snapshot to PostgreSQL that failed (the snapshot stays buffered).",
      registers: [registry],
    }),
);

export const snapshotsDropped = metric(
  "agenticorp_metric_snapshots_dropped_total",
  () =>
    new client.Counter({
      name: "agenticorp_metric_snapshots_dropped_total",
      help: "Buffered metric snapshots discarded, oldest first, because the buffer was full.",
      registers: [registry],
    }),
);
