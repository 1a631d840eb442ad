// Builds the gateway's long-lived parts for one process and ties their events to metrics.
import type { Logger } from "pino";
import { ResponseCache } from "../cache/response-cache";
import { configRefreshMs, type Config } from "../../platform/config";
import type { Database } from "../../platform/db/client";
import { FleetConfig } from "../fleet-config/config-sync";
import {
  circuitState,
  upstreamAttemptFailures,
  upstreamFallbacks,
  upstreamLastFailure,
  upstreamRetries,
} from "../../platform/metrics/gateway";
import { KeyUsageRecorder } from "../keys/usage";
import { LoadSignals } from "../batch/load-signals";
import { BATCH_QUEUE_CHANNEL, BatchService } from "../batch/service";
import { RequestLog } from "../request-log/request-log";
import { RequestLogWriter } from "../request-log/writer";
import { REQUEST_LOG_OUTCOMES, requestLogEntries } from "../../platform/metrics/request-log";
import { readPriceFile } from "../usage/price-file";
import { UsageMeter } from "../usage/meter";
import { KeyQuotas } from "../usage/quotas";
import type { GatewayDeps } from "./deps";
import { FleetRateLimiter } from "./rate-limiter";
import { Router } from "./router";

const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

export interface Gateway extends GatewayDeps {
  fleet: FleetConfig;
  stop(): Promise<void>;
}

export function createGateway(config: Config, database: Database, logger: Logger, liveInstances: () => number): Gateway {
  const batch = new BatchService(
    database.pool,
    { maxFileBytes: config.BATCH_FILE_MAX_BYTES, maxLines: config.BATCH_MAX_LINES },
    logger,
  );
  const fleet = new FleetConfig({
    pool: database.pool,
    listenUrl: config.DATABASE_DIRECT_URL ?? database.url,
    secret: config.SECRET!,
    refreshMs: configRefreshMs(config),
    filePrices: readPriceFile(config.PRICES_FILE),
    logger,
    channels: { [BATCH_QUEUE_CHANNEL]: () => batch.queued() },
    listen: config.CONFIG_SYNC === "listen",
  });
  const load = new LoadSignals();
  const router = new Router(
    {
      maxAttempts: config.ROUTER_MAX_ATTEMPTS,
      failureThreshold: config.CIRCUIT_FAILURE_THRESHOLD,
      cooldownMs: config.CIRCUIT_COOLDOWN_MS,
    },
    {
      onRetry: (deployment, failure) => upstreamRetries.inc({ provider: deployment.provider.name, reason: failure.reason }),
      onFallback: (from) => upstreamFallbacks.inc({ model: from.modelName }),
      onAttemptFailed: (deployment, failure) => {
        if (failure.reason === "rate_limited") load.recordUpstream429();
        upstreamAttemptFailures.inc({ provider: deployment.provider.name, reason: failure.reason });
        if (failure.blamesDeployment)
          upstreamLastFailure.set({ deployment: deployment.label, reason: failure.reason }, Date.now() / 1000);
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
  const quotas = new KeyQuotas({
    pool: database.pool,
    instanceCount: liveInstances,
    timeZone: config.USAGE_TIME_ZONE,
    testDayMs: config.BUDGET_TEST_DAY_MS,
    onDatabaseError: (error) => {
      if (Date.now() - lastLimiterWarning < 10_000) return;
      lastLimiterWarning = Date.now();
      logger.warn({ err: error.message }, "budgets and token limits fall back to local shares: database unavailable");
    },
  });
  const pruneTimer = setInterval(() => {
    limiter.prune();
    quotas.prune();
  }, 60_000);
  pruneTimer.unref();
  let lastLogWarning = 0;
  const requestLogWriter = config.REQUEST_LOG
    ? new RequestLogWriter({
        pool: database.pool,
        bufferMax: config.REQUEST_LOG_BUFFER_MAX,
        onError: (error) => {
          if (Date.now() - lastLogWarning < 10_000) return;
          lastLogWarning = Date.now();
          logger.warn(
            { err: error.message },
            "writing the request log failed; entries are kept for the next try while the buffer has room",
          );
        },
      })
    : null;
  // Present from the start, so Prometheus' rate() sees the first drop too.
  if (requestLogWriter) for (const outcome of REQUEST_LOG_OUTCOMES) requestLogEntries.inc({ outcome }, 0);
  const requestLog = requestLogWriter
    ? new RequestLog({
        instanceId: config.INSTANCE_ID,
        writer: requestLogWriter,
        defaults: { sampleRate: config.REQUEST_LOG_SAMPLE_RATE, slowMs: config.REQUEST_LOG_SLOW_MS },
        settings: () => fleet.current.requestLog,
        bodyMaxBytes: config.REQUEST_LOG_BODY_MAX_BYTES,
      })
    : null;
  return {
    fleet,
    router,
    cache,
    limiter,
    keyUsage: new KeyUsageRecorder(),
    load,
    batch,
    requestLog,
    usage: new UsageMeter({
      accounting: config.USAGE_ACCOUNTING,
      keyLabel: config.METRICS_KEY_LABEL,
      onSpend: (key, tokens, costUsd) => quotas.spent(key, tokens, costUsd),
    }),
    quotas,
    async stop() {
      clearInterval(pruneTimer);
      await requestLogWriter
        ?.stop()
        .catch((error: Error) => logger.warn({ err: error.message }, "writing the last request log entries failed"));
      await cache.close();
      await fleet.stop();
    },
  };
}
