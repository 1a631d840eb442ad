// What the gateway's handlers need, built once per process in lib/platform/process/boot.ts.
import type { ResponseCache } from "../cache/response-cache";
import type { FleetSnapshot } from "../fleet-config/snapshot";
import type { KeyUsageRecorder } from "../keys/usage";
import type { LoadSignals } from "../batch/load-signals";
import type { BatchService } from "../batch/service";
import type { FleetRateLimiter } from "./rate-limiter";
import type { Router } from "./router";

export interface GatewayDeps {
  fleet: { readonly current: FleetSnapshot };
  router: Router;
  cache: ResponseCache;
  limiter: FleetRateLimiter;
  /** Last-used times of keys, flushed by the heartbeat. */
  keyUsage: KeyUsageRecorder;
  /** Live latency and upstream 429s, which batch work yields to. */
  load: LoadSignals;
  /** The Batch API's store and limits. */
  batch: BatchService;
}
