// The fleet's singleton jobs, run only by the elected leader (lib/platform/coordination/leader.ts). Each job
// gets the leadership's fencing token for its writes and a signal that aborts when it ends.
import { reapDeadInstances } from "../coordination/registry";
import { registerObservabilityJobs } from "../metrics-history/jobs";
import { registerRetentionJobs } from "../retention/jobs";
import { registerAlertJobs } from "../../control-plane/alerts/jobs";
import { LOGIN_THROTTLE_EXPIRED } from "../../control-plane/auth/login-throttle";
import { registerScalingJobs } from "../../control-plane/scaling/jobs";
import { sweepBatches } from "../../data-plane/batch/sweep";
import { registerUsageJobs } from "../../control-plane/usage/rollup";
import { registerCacheJobs } from "../../data-plane/cache/jobs";
import { loggedLeaderJobs, type SingletonContext } from "./leader-jobs";

const FORGET_DEAD_AFTER_MS = 3_600_000;
const BATCH_SWEEP_EVERY_MS = 10_000;

export function registerSingletonJobs({ leader, holder, database, config, logger }: SingletonContext): void {
  const fence = (token: bigint) => ({ name: "leader", holder, token });

  // Dead means silent while the database was reachable. A new leader cannot tell an instance's
  // silence from the database's (an outage silences every heartbeat, and usually costs the old
  // leader its lease), so it watches for one dead-after period before it judges: otherwise the
  // first leader after an outage marks the whole fleet dead before its heartbeats land.
  let watching: { token: bigint; since: number } | undefined;
  leader.runJob("reap-dead-instances", Math.max(1_000, Math.floor(config.INSTANCE_DEAD_AFTER_MS / 3)), async (token) => {
    if (watching?.token !== token) watching = { token, since: performance.now() };
    if (performance.now() - watching.since < config.INSTANCE_DEAD_AFTER_MS) return;
    const dead = await reapDeadInstances(database.pool, fence(token), config.INSTANCE_DEAD_AFTER_MS, FORGET_DEAD_AFTER_MS);
    if (dead.length > 0) logger.warn({ instances: dead }, "instances stopped heartbeating: marked dead");
  });

  // Validating or finalizing batches whose instance died, and batches past their completion window.
  loggedLeaderJobs(leader, logger, "batch")("batch-sweep", BATCH_SWEEP_EVERY_MS, async (_token, signal) => {
    const swept = await sweepBatches(database.pool, config.BATCH_MAX_LINES, signal);
    if (swept.expired + swept.validated + swept.finalized > 0)
      logger.info(swept, "batch sweep: took up batches nobody was working on");
  });

  registerRetentionJobs({ leader, holder, database, config, logger }, [
    { table: "login_throttle", expired: LOGIN_THROTTLE_EXPIRED },
  ]);
  registerCacheJobs({ leader, holder, database, config, logger });
  registerObservabilityJobs({ leader, holder, database, config, logger });
  registerAlertJobs({ leader, holder, database, config, logger });
  registerScalingJobs({ leader, holder, database, config, logger });
  registerUsageJobs({ leader, holder, database, config, logger });
}
