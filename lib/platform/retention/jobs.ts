// The leader's retention jobs: every table that grows with traffic or time is kept within its
// bound (docs/operations.md "What grows, and its bound"), in small batches fenced with the
// leadership's token, and the tables' sizes are measured for /metrics.
import { boundSharedCache } from "../../data-plane/cache/shared-bound";
import { cacheSharedSize, tableBytes, tableRows } from "../metrics/tables";
import { loggedLeaderJobs } from "../process/leader-jobs";
import type { SingletonContext } from "../process/singletons";
import { deleteInBatches } from "./batched-delete";
import { retentionRules } from "./rules";
import { readTableSizes } from "./table-sizes";

const RETENTION_EVERY_MS = 60_000;
const TABLE_SIZES_EVERY_MS = 60_000;
/** Often enough that a burst of shared-cache writes overshoots its bound only briefly. */
const CACHE_BOUND_EVERY_MS = 10_000;
/** 200,000 rows per run at most: 20,000 a second, above one instance's unique-traffic write rate. */
const CACHE_MAX_BATCHES_PER_RUN = 100;
const BATCH = 2_000;
const MAX_BATCHES_PER_RUN = 50;

export function registerRetentionJobs({ leader, holder, database, config, logger }: SingletonContext): void {
  const fence = (token: bigint) => ({ name: "leader", holder, token });
  const { pool } = database;
  const job = loggedLeaderJobs(leader, logger, "retention");
  // Samples belong to the leadership that measured them.
  const dropSamplesWhenDeposed = oncePer((signal: AbortSignal) =>
    signal.addEventListener("abort", () => [tableRows, tableBytes, cacheSharedSize].forEach((gauge) => gauge.reset()), { once: true }),
  );

  job("cache-shared-bound", CACHE_BOUND_EVERY_MS, async (token, signal) => {
    const result = await boundSharedCache(pool, fence(token), { maxRows: config.CACHE_SHARED_MAX_ROWS, maxBytes: config.CACHE_SHARED_MAX_BYTES, batch: BATCH, maxBatches: CACHE_MAX_BATCHES_PER_RUN, signal });
    if (!result || signal.aborted) return;
    dropSamplesWhenDeposed(signal);
    cacheSharedSize.set({ measure: "rows" }, result.rows);
    cacheSharedSize.set({ measure: "payload_bytes" }, result.bytes);
    if (result.evicted > 0) logger.debug({ evicted: result.evicted, expired: result.expired, rows: result.rows, bytes: result.bytes }, "shared response cache over its bound: evicted the oldest entries");
  });

  const rules = retentionRules(config);
  job("retention-prune", RETENTION_EVERY_MS, async (token, signal) => {
    const deleted: Record<string, number> = {};
    for (const rule of rules) {
      const count = await deleteInBatches(pool, fence(token), rule.table, rule.expired, { batch: rule.batch ?? BATCH, maxBatches: MAX_BATCHES_PER_RUN, signal });
      if (count === null) return; // no longer the leader
      if (count > 0) deleted[rule.table] = count;
    }
    if (Object.keys(deleted).length > 0) logger.debug({ deleted }, "pruned rows past retention");
  });

  job("table-sizes", TABLE_SIZES_EVERY_MS, async (_token, signal) => {
    const sizes = await readTableSizes(pool);
    if (signal.aborted) return;
    dropSamplesWhenDeposed(signal);
    for (const { table, rows, bytes } of sizes) {
      tableRows.set({ table }, rows);
      tableBytes.set({ table }, bytes);
    }
  });
}

/** Calls `fn` at most once per distinct argument. */
function oncePer<T extends object>(fn: (value: T) => void): (value: T) => void {
  const seen = new WeakSet<T>();
  return (value) => {
    if (seen.has(value)) return;
    seen.add(value);
    fn(value);
  };
}
