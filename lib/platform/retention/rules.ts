// What the leader deletes from each table that grows with time, by the database's clock. The
// response cache (lib/data-plane/cache/shared-bound.ts), the metric rollups (lib/platform/metrics-history/rollup.ts)
// and dead instances (lib/platform/coordination/registry.ts) keep their own bounds; features above the platform
// hand their tables' rules in (lib/platform/process/singletons.ts); docs/operations.md "What grows, and its bound"
// lists them all.
import type { Config } from "../config";
import { Prisma } from "../metrics-history/sql";
import type { GrowingTable } from "./batched-delete";

export interface RetentionRule {
  table: GrowingTable;
  /** The rows past retention. */
  expired: Prisma.Sql;
  /** Rows per delete transaction, when a row takes many others with it (ON DELETE CASCADE). */
  batch?: number;
}

/** Rate-limit windows are one minute; ten keep a margin for clocks and late claims. */
const RATE_LIMIT_WINDOWS_KEPT_MINUTES = 10;

/** Quota windows last a minute, a day or a month: a month window is current for up to 31 days. */
const QUOTA_WINDOWS_KEPT_DAYS = 62;

const olderThanDays = (column: string, days: number) =>
  Prisma.sql`${Prisma.raw(column)} < now() - ${days}::int * interval '1 day'`;

/** A batch is over: its jobs will not change any more. */
const BATCH_ENDED = Prisma.sql`status IN ('completed', 'failed', 'expired', 'cancelled')`;

export function retentionRules(
  config: Pick<
    Config,
    | "AUDIT_RETENTION_DAYS"
    | "ALERT_HISTORY_RETENTION_DAYS"
    | "METRICS_RETENTION_1M_DAYS"
    | "METRICS_RETENTION_10M_DAYS"
    | "BATCH_RETENTION_DAYS"
    | "REQUEST_LOG_RETENTION_DAYS"
  >,
  featureRules: RetentionRule[],
): RetentionRule[] {
  return [
    { table: "audit_log", expired: olderThanDays("at", config.AUDIT_RETENTION_DAYS) },
    { table: "alert_events", expired: olderThanDays("at", config.ALERT_HISTORY_RETENTION_DAYS) },
    {
      table: "rate_limit_windows",
      expired: Prisma.sql`window_start < now() - ${RATE_LIMIT_WINDOWS_KEPT_MINUTES}::int * interval '1 minute'`,
    },
    // Kept as long as the minute rollups they are explained by; the autoscaler remembers an hour.
    { table: "scaling_decisions", expired: olderThanDays("at", config.METRICS_RETENTION_1M_DAYS) },
    // A finished batch goes with its jobs (cascade: up to BATCH_MAX_LINES rows each, so a few batches per transaction).
    {
      table: "batches",
      expired: Prisma.sql`${BATCH_ENDED} AND COALESCE(completed_at, failed_at, expired_at, cancelled_at, created_at) < now() - ${config.BATCH_RETENTION_DAYS}::int * interval '1 day'`,
      batch: 5,
    },
    // Files (uploads and outputs) go after the same time from their upload, unless a batch still running reads them.
    {
      table: "batch_files",
      expired: Prisma.sql`${olderThanDays("created_at", config.BATCH_RETENTION_DAYS)} AND NOT EXISTS (SELECT 1 FROM batches b
        WHERE b.input_file_id = batch_files.id AND b.status IN ('validating', 'in_progress', 'finalizing', 'cancelling'))`,
      batch: 20,
    },
    { table: "quota_windows", expired: olderThanDays("window_start", QUOTA_WINDOWS_KEPT_DAYS) },
    // Usage keeps the metrics' tiers: minute rows as long as minute rollups, 10 min rows as long as theirs; never before rolled up.
    {
      table: "usage_buckets",
      expired: Prisma.sql`NOT dirty AND ((resolution = 60 AND ${olderThanDays("bucket", config.METRICS_RETENTION_1M_DAYS)})
        OR (resolution = 600 AND ${olderThanDays("bucket", config.METRICS_RETENTION_10M_DAYS)}))`,
    },
    { table: "request_log", expired: olderThanDays("at", config.REQUEST_LOG_RETENTION_DAYS) },
    ...featureRules,
  ];
}
