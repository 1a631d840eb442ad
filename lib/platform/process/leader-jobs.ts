// Registers leader jobs whose failures are logged with their reason: the election reports a failed
// job by name only. Each job runs again after its interval either way.
import type { Logger } from "pino";
import type { LeaderElection, LeaderJob } from "../coordination/leader";

export type RegisterJob = (name: string, intervalMs: number, fn: LeaderJob) => void;

export function loggedLeaderJobs(leader: LeaderElection, logger: Logger, what: string): RegisterJob {
  return (name, intervalMs, fn) =>
    leader.runJob(name, intervalMs, async (token, signal) => {
      try {
        await fn(token, signal);
      } catch (error) {
        if (!signal.aborted) logger.warn({ job: name, err: (error as Error).message }, `${what} job failed; retrying at its next run`);
      }
    });
}
