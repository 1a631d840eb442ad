// The leader's retention jobs: every table that grows with traffic or time is kept within its
// bound (docs/operations.md "What grows, and its bound"), in small batches fenced with the
// leadership's token, and the tables' sizes are measured for /metrics. The shared response cache keeps its own
// bound (lib/data-plane/cache/jobs.ts).
import { tableBytes, tableRows } from "../metrics/tables";
import { loggedLeaderJobs, oncePer, type SingletonContext } from "../process/leader-jobs";
import { deleteInBatches } from "./batched-delete";
import { retentionRules, type RetentionRule } from "./rules";
import { readTableSizes } from "./table-sizes";

const RETENTION_EVERY_MS = 60_000;
const TABLE_SIZES_EVERY_MS = 60_000;
const BATCH = 2_000;
const MAX_BATCHES_PER_RUN = 50;

/** `featureRules`: the rules of tables owned by features above the platform (the login throttle's). */
export function registerRetentionJobs(
  { leader, holder, database, config, logger }: SingletonContext,
  featureRules: RetentionRule[],
): void {
  const fence = (token: bigint) => ({ name: "leader", holder, token });
  const { pool } = database;
  const job = loggedLeaderJobs(leader, logger, "retention");
  // Samples belong to the leadership that measured them.
  const dropSamplesWhenDeposed = oncePer((signal: AbortSignal) =>
    signal.addEventListener("abort", () => [tableRows, tableBytes].forEach((gauge) => gauge.reset()), { once: true }),
  );

  const rules = retentionRules(config, featureRules);
  job("retention-prune", RETENTION_EVERY_MS, async (token, signal) => {
    const deleted: Record<string, number> = {};
    for (const rule of rules) {
      const count = await deleteInBatches(pool, fence(token), rule.table, rule.expired, {
        batch: rule.batch ?? BATCH,
        maxBatches: MAX_BATCHES_PER_RUN,
        signal,
      });
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
