// CONFIG_FILE at start: every instance reads and checks the file itself (a bad file stops it
// before it serves), then one instance — the holder of the "config-file" lease — applies it while
// the others wait, unready, until the database says that file is in force, so a rollout with a
// changed ConfigMap converges once. The same file again (same hash) is a no-op: no apply, no audit
// entry, no configuration version bump. A wait that outlasts CONFIG_FILE_WAIT_MS ends with an error
// log, and the instance serves what the database holds.
import type { Logger } from "pino";
import { withLease } from "../../platform/coordination/lease";
import type { Database } from "../../platform/db/client";
import type { Actor } from "../audit/audit";
import { applyConfig, appliedHash } from "./apply";
import type { LoadedConfig } from "./load";

export const CONFIG_FILE_LEASE = "config-file";
const LEASE_TTL_MS = 30_000;
const POLL_MS = 500;

export interface StartupApplyOptions {
  database: Database;
  loaded: LoadedConfig;
  secret: string;
  /** This process's lease holder identity. */
  holder: string;
  instanceId: string;
  waitMs: number;
  logger: Logger;
  signal?: AbortSignal;
}

export type StartupApplyOutcome = "in_force" | "applied" | "timed_out" | "stopped";

export async function applyConfigFileAtStart(options: StartupApplyOptions): Promise<StartupApplyOutcome> {
  const { database, loaded, logger } = options;
  const actor: Actor = { id: null, email: `config-file:${options.instanceId}` };
  const deadline = Date.now() + options.waitMs;
  let waiting = false;
  while (!options.signal?.aborted) {
    if ((await appliedHash(database.prisma)) === loaded.hash) {
      logger.info(
        { file: loaded.source, hash: loaded.hash.slice(0, 16) },
        waiting ? "configuration file applied by another instance" : "configuration file already in force",
      );
      return "in_force";
    }
    const result = await withLease(database.pool, CONFIG_FILE_LEASE, { holder: options.holder, ttlMs: LEASE_TTL_MS }, () =>
      applyConfig(database.prisma, loaded, { actor, secret: options.secret }),
    );
    if (result) {
      logger.info(
        { file: loaded.source, hash: loaded.hash.slice(0, 16), changes: result.changes.length },
        "configuration file applied",
      );
      return "applied";
    }
    if (!waiting) logger.info({ file: loaded.source }, "another instance is applying the configuration file; waiting");
    waiting = true;
    if (Date.now() >= deadline) {
      logger.error(
        { file: loaded.source, waited_ms: options.waitMs },
        "the configuration file was not applied in time; serving the database's configuration",
      );
      return "timed_out";
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return "stopped";
}
