// The leader's shared-cache job: keep the shared response cache within its bound (docs/operations.md "What grows,
// and its bound") in small batches fenced with the leadership's token, and report its size for /metrics.
import { cacheSharedSize } from "../../platform/metrics/tables";
import { loggedLeaderJobs, oncePer, type SingletonContext } from "../../platform/process/leader-jobs";
import { boundSharedCache } from "./shared-bound";

/** Often enough that a burst of shared-cache writes overshoots its bound only briefly. */
const CACHE_BOUND_EVERY_MS = 10_000;
/** 200,000 rows per run at most: 20,000 a second, above one instance's unique-traffic write rate. */
const CACHE_MAX_BATCHES_PER_RUN = 100;
const BATCH = 2_000;

export function registerCacheJobs({ leader, holder, database, config, logger }: SingletonContext): void {
  const job = loggedLeaderJobs(leader, logger, "retention");
  // Samples belong to the leadership that measured them.
  const dropSamplesWhenDeposed = oncePer((signal: AbortSignal) =>
    signal.addEventListener("abort", () => cacheSharedSize.reset(), { once: true }),
  );

  job("cache-shared-bound", CACHE_BOUND_EVERY_MS, async (token, signal) => {
    const bound = {
      maxRows: config.CACHE_SHARED_MAX_ROWS,
      maxBytes: config.CACHE_SHARED_MAX_BYTES,
      batch: BATCH,
      maxBatches: CACHE_MAX_BATCHES_PER_RUN,
      signal,
    };
    const result = await boundSharedCache(database.pool, { name: "leader", holder, token }, bound);
    if (!result || signal.aborted) return;
    dropSamplesWhenDeposed(signal);
    cacheSharedSize.set({ measure: "rows" }, result.rows);
    cacheSharedSize.set({ measure: "payload_bytes" }, result.bytes);
    if (result.evicted > 0)
      logger.debug(
        { evicted: result.evicted, expired: result.expired, rows: result.rows, bytes: result.bytes },
        "shared response cache over its bound: evicted the oldest entries",
      );
  });
}
