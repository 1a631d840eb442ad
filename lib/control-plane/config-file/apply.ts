// Applies a loaded configuration file: in one transaction, every section compares the file with
// the database, and only if none found a problem are the differences written, each with its audit
// entry as a console change would have, plus one "config.apply" entry listing them. The writes go
// through the same tables' triggers as the console's, so the configuration version moves and every
// instance reloads; a file that changes nothing writes nothing (no audit entry, no version bump).
import { recordAudit, type Actor } from "../audit/audit";
import type { PrismaClient } from "../../platform/db/generated/client";
import { ConfigFileError, type ConfigIssue } from "./issues";
import type { LoadedConfig } from "./load";
import { SECTIONS } from "./sections";
import type { ConfigChange, SectionPlan } from "./sections/types";

// Serialises applies across processes (transaction-scoped: safe through PgBouncer).
const CONFIG_FILE_LOCK_KEY = 7_219_451_120;
// Large files plan and write many rows; Prisma's default 5 s would cut a legitimate apply short.
const TRANSACTION_TIMEOUT_MS = 120_000;

export interface ApplyOptions {
  actor: Actor;
  secret: string;
  /** Compare and report only. */
  dryRun?: boolean;
}

export interface ApplyResult {
  changes: ConfigChange[];
  /** False for a dry run, and when there was nothing to change. */
  applied: boolean;
  hash: string;
}

export async function applyConfig(prisma: PrismaClient, loaded: LoadedConfig, options: ApplyOptions): Promise<ApplyResult> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(${CONFIG_FILE_LOCK_KEY}::bigint)::text AS locked`;
      const issues: ConfigIssue[] = [];
      const context = { secret: options.secret, issue: (path: string, message: string) => issues.push({ path, message }) };
      const plans: SectionPlan[] = [];
      for (const section of SECTIONS) plans.push(await section.plan(tx, loaded.config, context));
      if (issues.length > 0) throw new ConfigFileError(issues, loaded.source);
      const changes = plans.flatMap((plan) => plan.changes);
      if (options.dryRun) return { changes, applied: false, hash: loaded.hash };
      for (const plan of plans) await plan.apply(tx, { actor: options.actor, secret: options.secret });
      const activePolicy = loaded.config.scaling.active ?? null;
      const state = await tx.configFileState.findUnique({ where: { id: 1 } });
      if (!state || state.hash !== loaded.hash || state.activePolicy !== activePolicy) {
        const data = { hash: loaded.hash, activePolicy, appliedAt: new Date(), appliedBy: options.actor.email };
        await tx.configFileState.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
      }
      if (changes.length > 0) {
        await recordAudit(tx, options.actor, {
          action: "config.apply",
          targetType: "config_file",
          targetId: loaded.hash.slice(0, 16),
          after: { source: loaded.source, changes },
        });
      }
      return { changes, applied: changes.length > 0, hash: loaded.hash };
    },
    { timeout: TRANSACTION_TIMEOUT_MS, maxWait: TRANSACTION_TIMEOUT_MS },
  );
}

/** The hash of the file last applied, if any. */
export async function appliedHash(prisma: PrismaClient): Promise<string | null> {
  return (await prisma.configFileState.findUnique({ where: { id: 1 }, select: { hash: true } }))?.hash ?? null;
}

const SIGNS: Record<ConfigChange["op"], string> = {
  create: "+",
  adopt: "~",
  update: "~",
  replace: "±",
  delete: "-",
  release: "~",
  activate: "*",
};
const WORDS: Record<ConfigChange["op"], string> = {
  create: "create",
  adopt: "take over (was made by hand)",
  update: "update",
  replace: "replace",
  delete: "delete",
  release: "release (no longer managed by the file; kept as it is)",
  activate: "make active",
};

/** The diff as the CLI prints it: one line per object, one indented line per field. */
export function formatChanges(changes: ConfigChange[]): string {
  if (changes.length === 0) return "No changes: the database already matches the file.\n";
  return changes
    .map((change) =>
      [
        `${SIGNS[change.op]} ${change.kind} ${change.name}: ${WORDS[change.op]}`,
        ...change.fields.map((f) => `    ${f.field}: ${f.before} → ${f.after}`),
      ].join("\n"),
    )
    .join("\n")
    .concat("\n");
}
