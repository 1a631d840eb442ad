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
}

/** Rate-limit windows are one minute; ten keep a margin for clocks and late claims. */
const RATE_LIMIT_WINDOWS_KEPT_MINUTES = 10;

const olderThanDays = (column: string, days: number) => Prisma.sql`${Prisma.raw(column)} < now() - ${days}::int * interval '1 day'`;

export function retentionRules(
  config: Pick<Config, "AUDIT_RETENTION_DAYS" | "ALERT_HISTORY_RETENTION_DAYS" | "METRICS_RETENTION_1M_DAYS">,
  featureRules: RetentionRule[],
): RetentionRule[] {
  return [
    { table: "audit_log", expired: olderThanDays("at", config.AUDIT_RETENTION_DAYS) },
    { table: "alert_events", expired: olderThanDays("at", config.ALERT_HISTORY_RETENTION_DAYS) },
    { table: "rate_limit_windows", expired: Prisma.sql`window_start < now() - ${RATE_LIMIT_WINDOWS_KEPT_MINUTES}::int * interval '1 minute'` },
    // Kept as long as the minute rollups they are explained by; the autoscaler remembers an hour.
    { table: "scaling_decisions", expired: olderThanDays("at", config.METRICS_RETENTION_1M_DAYS) },
    ...featureRules,
  ];
}
