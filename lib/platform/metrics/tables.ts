// The size of the tables that grow with traffic or time, measured by the leader now and then
// (lib/platform/retention/jobs.ts), never per request. Only the leader has samples; it drops them when its
// leadership ends, so a former leader never reports stale sizes.
import client from "prom-client";
import { metric, registry } from "./registry";

export const tableRows = metric(
  "agenticorp_table_rows",
  () =>
    new client.Gauge({
      name: "agenticorp_table_rows",
      help: "Rows of each table that grows with traffic, as the leader last measured: PostgreSQL's estimate (reltuples, kept by autovacuum), counted exactly while the table was never analysed.",
      labelNames: ["table"] as const,
      registers: [registry],
    }),
);

export const tableBytes = metric(
  "agenticorp_table_bytes",
  () =>
    new client.Gauge({
      name: "agenticorp_table_bytes",
      help: "Disk used by each table that grows with traffic, its indexes and TOAST included (pg_total_relation_size), as the leader last measured.",
      labelNames: ["table"] as const,
      registers: [registry],
    }),
);

export const cacheSharedSize = metric(
  "agenticorp_cache_shared_size",
  () =>
    new client.Gauge({
      name: "agenticorp_cache_shared_size",
      help: "The shared response-cache table as the leader last counted it, exactly, after its bound ran: measure rows (bounded by CACHE_SHARED_MAX_ROWS) or payload_bytes (key, model and body; bounded by CACHE_SHARED_MAX_BYTES).",
      labelNames: ["measure"] as const,
      registers: [registry],
    }),
);
