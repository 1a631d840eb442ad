// The metrics source the console reads: Prometheus when PROMETHEUS_URL is set, the built-in
// PostgreSQL rollups otherwise (the factory and both sources belong to lib/platform/metrics-history/query).
import "server-only";
import { getConfig } from "../../platform/config";
import { getMetricsSource, type MetricsSource } from "../../platform/metrics-history/query";

export async function consoleMetricsSource(): Promise<MetricsSource> {
  return getMetricsSource(getConfig());
}
