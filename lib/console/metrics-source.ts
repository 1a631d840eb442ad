// The metrics source the console reads: Prometheus when PROMETHEUS_URL is set, the built-in
// PostgreSQL rollups otherwise (the factory and both sources belong to lib/metrics/query).
import { getConfig } from "../config";
import { getMetricsSource, type MetricsSource } from "../metrics/query";

export async function consoleMetricsSource(): Promise<MetricsSource> {
  return getMetricsSource(getConfig());
}
