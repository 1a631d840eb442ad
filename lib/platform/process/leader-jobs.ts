// Registers leader jobs whose failures are logged with their reason: the election reports a failed
// job by name only. Each job runs again after its interval either way.
import type { Logger } from "pino";
import type { Config } from "../config";
import type { LeaderElection, LeaderJob } from "../coordination/leader";
import type { Database } from "../db/client";

/** What a feature's leader jobs are registered with (lib/platform/process/singletons.ts wires them). */
export interface SingletonContext {
  leader: LeaderElection;
  holder: string;
  database: Database;
  config: Config;
  logger: Logger;
}

export type RegisterJob = (name: string, intervalMs: number, fn: LeaderJob) => void;

export function loggedLeaderJobs(leader: LeaderElection, logger: Logger, what: string): RegisterJob {
  return (name, intervalMs, fn) =>
    leader.runJob(name, intervalMs, async (token, signal) => {
      try {
        await fn(token, signal);
      } catch (error) {
        if (!signal.aborted)
          logger.warn({ job: name, err: (error as Error).message }, `${what} job failed; retrying at its next run`);
      }
    });
}

/** Calls `fn` at most once per distinct argument (e.g. once per leadership's abort signal). */
export function oncePer<T extends object>(fn: (value: T) => void): (value: T) => void {
  const seen = new WeakSet<T>();
  return (value) => {
    if (seen.has(value)) return;
    seen.add(value);
    fn(value);
  };
}
