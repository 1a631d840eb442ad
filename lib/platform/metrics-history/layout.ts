// Histogram bucket layouts as stored in metric_rollups: one count per bound in this order, then
// the +Inf overflow. Stored arrays only merge with arrays of the same layout, so these must change
// only together with a migration of the stored rows. The snapshot reader checks the registry's
// histograms against them and refuses to write a mismatch.
import { DB_QUERY_BOUNDS } from "../metrics/db";
import { GATEWAY_ENDPOINTS } from "../metrics/gateway";

/** requests_by_endpoint: one count per endpoint in this order; appending is the only safe change. */
export const ENDPOINT_LAYOUT: readonly string[] = GATEWAY_ENDPOINTS;

/** agenticorp_gateway_request_duration_seconds (lib/platform/metrics/gateway.ts). */
export const LATENCY_BOUNDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** agenticorp_db_query_duration_seconds (lib/platform/metrics/db.ts). */
export const DB_BOUNDS: readonly number[] = DB_QUERY_BOUNDS;

/** The instance id of the fleet's own rows (every instance's added up, kept by the leader's rollups); INSTANCE_ID cannot be "*". */
export const FLEET_ROW_ID = "*";
