// The console's and the alert rules' way in: one MetricsSource, Prometheus when PROMETHEUS_URL is
// set, the PostgreSQL rollups otherwise.
import type { Config } from "../../config";
import { getDatabase } from "../../db/client";
import type { Queryable } from "../sql";
import { PostgresMetricsSource, type Resolution } from "./postgres";
import { PrometheusMetricsSource } from "./prometheus";
import type { MetricsSource } from "./types";

export type { InstanceHealth, MetricsSource, Point, Series, TimeRange } from "./types";
export { planGrid, type Grid } from "./grid";

type SourceConfig = Pick<
  Config,
  | "PROMETHEUS_URL"
  | "PROMETHEUS_SCRAPE_INTERVAL_SECONDS"
  | "METRICS_RETENTION_10S_HOURS"
  | "METRICS_RETENTION_1M_DAYS"
  | "METRICS_RETENTION_10M_DAYS"
>;

/** Seconds each rollup resolution is kept, from the configuration. */
export function retentionSeconds(
  config: Omit<SourceConfig, "PROMETHEUS_URL" | "PROMETHEUS_SCRAPE_INTERVAL_SECONDS">,
): Record<Resolution, number> {
  return {
    10: config.METRICS_RETENTION_10S_HOURS * 3_600,
    60: config.METRICS_RETENTION_1M_DAYS * 86_400,
    600: config.METRICS_RETENTION_10M_DAYS * 86_400,
  };
}

/** `db` reaches PostgreSQL for the rollups and the instance registry; by default the process pool. */
export function getMetricsSource(config: SourceConfig, db: Queryable = getDatabase().pool): MetricsSource {
  if (config.PROMETHEUS_URL) {
    return new PrometheusMetricsSource({
      url: config.PROMETHEUS_URL,
      scrapeIntervalSeconds: config.PROMETHEUS_SCRAPE_INTERVAL_SECONDS,
      db,
    });
  }
  return new PostgresMetricsSource({ db, retentionSeconds: retentionSeconds(config) });
}
