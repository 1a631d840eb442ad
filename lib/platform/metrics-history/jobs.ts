// The leader's observability jobs: roll the metric snapshots up and prune rollups past retention (the alert rules
// are evaluated by lib/control-plane/alerts/jobs.ts). Registered once per process with the leader election; they run only while this instance leads,
// each write fenced with the leadership's token.
import { loggedLeaderJobs, type SingletonContext } from "../process/leader-jobs";
import { retentionSeconds } from "./query";
import { addMissingFleetRows, prune, rollUp, ROLLUP_STEPS } from "./rollup";

/** Bounds one run's work, so a backlog is worked off over several runs rather than in one long one. */
const MAX_BATCHES_PER_RUN = 20;
const ROLLUP_BATCH = 5_000;
const PRUNE_BATCH = 10_000;
const PRUNE_EVERY_MS = 60_000;
/** How far back a new leader adds fleet rows an earlier version's leader did not write (a rolling upgrade's length). */
const FLEET_REPAIR_SECONDS = 3_600;

export function registerObservabilityJobs({ leader, holder, database, config, logger }: SingletonContext): void {
  const fence = (token: bigint) => ({ name: "leader", holder, token });
  const { pool } = database;
  const job = loggedLeaderJobs(leader, logger, "observability");

  let repairedUnder: bigint | undefined;
  job("metrics-rollup", config.ROLLUP_INTERVAL_MS, async (token, signal) => {
    if (repairedUnder !== token) {
      // A failure here must not hold up the rollups: it is tried again at the next run.
      const added = await addMissingFleetRows(pool, fence(token), FLEET_REPAIR_SECONDS).catch((error: Error) => {
        logger.warn({ err: error.message }, "adding missing fleet rollup rows failed; retrying at the next run");
        return undefined;
      });
      if (added === null) return; // no longer the leader
      if (added !== undefined) {
        if (added > 0) logger.info({ rollup_rows: added }, "added the fleet's rollup rows an earlier leader did not write");
        repairedUnder = token;
      }
    }
    for (const [from, to] of ROLLUP_STEPS) {
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN && !signal.aborted; batch++) {
        const claimed = await rollUp(pool, fence(token), from, to, ROLLUP_BATCH);
        if (claimed === null) return; // no longer the leader
        if (claimed < ROLLUP_BATCH) break;
      }
    }
  });

  const retention = retentionSeconds(config);
  job("metrics-prune", PRUNE_EVERY_MS, async (token, signal) => {
    let deleted = 0;
    for (const [resolution, seconds] of Object.entries(retention)) {
      for (let batch = 0; batch < MAX_BATCHES_PER_RUN && !signal.aborted; batch++) {
        const count = await prune(pool, fence(token), Number(resolution), seconds, PRUNE_BATCH);
        if (count === null) return;
        deleted += count;
        if (count < PRUNE_BATCH) break;
      }
    }
    if (deleted > 0) logger.debug({ rollup_rows: deleted }, "pruned metrics past retention");
  });
}
