// Builds the gateway's long-lived parts for one process and ties their events to metrics.
import type { Logger } from "pino";
import { ResponseCache } from "../cache/response-cache";
import { configRefreshMs, type Config } from "../../platform/config";
import type { Database } from "../../platform/db/client";
import { FleetConfig } from "../fleet-config/config-sync";
import { circuitState, upstreamAttemptFailures, upstreamFallbacks, upstreamLastFailure, upstreamRetries } from "../../platform/metrics/gateway";
import { KeyUsageRecorder } from "../keys/usage";
import type { GatewayDeps } from "./deps";
import { FleetRateLimiter } from "./rate-limiter";
import { Router } from "./router";

const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export interface Gateway extends GatewayDeps {
  fleet: FleetConfig;
  stop(): Promise<void>;
}

export function createGateway(config: Config, database: Database, logger: Logger, liveInstances: () => number): Gateway {
  const fleet = new FleetConfig({
    pool: database.pool,
    listenUrl: config.DATABASE_DIRECT_URL ?? database.url,
    secret: config.SECRET!,
    refreshMs: configRefreshMs(config),
    logger,
    listen: config.CONFIG_SYNC === "listen",
  });
  const router = new Router(
    { maxAttempts: config.ROUTER_MAX_ATTEMPTS, failureThreshold: config.CIRCUIT_FAILURE_THRESHOLD, cooldownMs: config.CIRCUIT_COOLDOWN_MS },
    {
      onRetry: (deployment, failure) => upstreamRetries.inc({ provider: deployment.provider.name, reason: failure.reason }),
      onFallback: (from) => upstreamFallbacks.inc({ model: from.modelName }),
      onAttemptFailed: (deployment, failure) => {
        upstreamAttemptFailures.inc({ provider: deployment.provider.name, reason: failure.reason });
        if (failure.blamesDeployment) upstreamLastFailure.set({ deployment: deployment.label, reason: failure.reason }, Date.now() / 1000);
      },
      onCircuitChange: (deployment, state) => {
        circuitState.set({ deployment: deployment.label }, CIRCUIT_VALUE[state]);
        if (state !== "half_open") logger.warn({ deployment: deployment.label, state }, "circuit changed");
      },
    },
  );
  const cache = new ResponseCache({
    pool: database.pool,
    ttlSeconds: config.CACHE_TTL_SECONDS,
    maxEntries: config.CACHE_MAX_ENTRIES,
    scope: config.CACHE_SCOPE,
    sharedMaxEntryBytes: config.CACHE_SHARED_MAX_ENTRY_BYTES,
    sharedMinSightings: config.CACHE_SHARED_MIN_SIGHTINGS,
    onSharedError: (error) => logger.debug({ err: error.message }, "shared cache unavailable"),
  });
  let lastLimiterWarning = 0;
  const limiter = new FleetRateLimiter({
    pool: database.pool,
    instanceCount: liveInstances,
    onDatabaseError: (error) => {
      if (Date.now() - lastLimiterWarning < 10_000) return;
      lastLimiterWarning = Date.now();
      logger.warn({ err: error.message }, "rate limits fall back to local shares: database unavailable");
    },
  });
  const pruneTimer = setInterval(() => limiter.prune(), 60_000);
  pruneTimer.unref();
  return {
    fleet,
    router,
    cache,
    limiter,
    keyUsage: new KeyUsageRecorder(),
    async stop() {
      clearInterval(pruneTimer);
      await cache.close();
      await fleet.stop();
    },
  };
}
