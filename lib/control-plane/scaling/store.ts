// Scaling policies in PostgreSQL: the presets seeded from code, custom policies admins save, and
// the one active policy. Every change writes a scaling_policy_changes row (before → after) and an
// audit entry in the same transaction; the scaling_policies trigger NOTIFYs every instance, whose
// FleetSnapshot then carries the new active policy (lib/data-plane/fleet-config/config-sync.ts).
import stringify from "safe-stable-stringify";
import { recordAudit, type Actor } from "../audit/audit";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import { BadRequestError, ConflictError, NotFoundError } from "../../platform/errors";
import { managedByFile } from "../config-file/managed";
import {
  DEFAULT_POLICY,
  isPresetName,
  parsePolicySpec,
  PRESETS,
  PRESET_NAMES,
  savePolicyInput,
  type PolicySpec,
  type SavePolicyInput,
} from "./policies";

type Tx = Prisma.TransactionClient;

// Serializes policy writes across the fleet (transaction-scoped: safe through PgBouncer), so two
// admins switching at once both succeed in turn and each change records the true "before".
const POLICY_LOCK_KEY = 7_219_451_119;

/** Who the system is in the policy history and the audit log. */
export const SYSTEM_ACTOR: Actor = { id: null, email: "system" };

async function lockPolicies(tx: Tx): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(${POLICY_LOCK_KEY}::bigint)::text AS locked`;
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue;
const same = (a: unknown, b: unknown) => stringify(a) === stringify(b);

export interface SeedResult {
  created: string[];
  updated: string[];
  /** The policy activated because none was, if any. */
  activated: string | null;
}

/**
 * Makes the presets match this version's definitions and activates the default when no policy is
 * active. Idempotent; safe for every instance to run at start.
 */
export async function seedPolicies(prisma: PrismaClient): Promise<SeedResult> {
  return prisma.$transaction(async (tx) => {
    await lockPolicies(tx);
    const result: SeedResult = { created: [], updated: [], activated: null };
    const existing = new Map(
      (await tx.scalingPolicy.findMany({ where: { name: { in: [...PRESET_NAMES] } } })).map((p) => [p.name, p]),
    );
    for (const name of PRESET_NAMES) {
      const spec = PRESETS[name];
      const row = existing.get(name);
      if (!row) {
        const created = await tx.scalingPolicy.create({ data: { name, preset: true, spec: json(spec) } });
        await tx.scalingPolicyChange.create({
          data: { policyId: created.id, actor: SYSTEM_ACTOR.email, reason: "preset created", after: json({ name, spec }) },
        });
        result.created.push(name);
      } else if (!same(row.spec, spec) || !row.preset) {
        await tx.scalingPolicy.update({ where: { id: row.id }, data: { preset: true, spec: json(spec) } });
        await tx.scalingPolicyChange.create({
          data: {
            policyId: row.id,
            actor: SYSTEM_ACTOR.email,
            reason: "preset definition changed in this version",
            before: json({ name, spec: row.spec }),
            after: json({ name, spec }),
          },
        });
        result.updated.push(name);
      }
    }
    if ((await tx.scalingPolicy.count({ where: { active: true } })) === 0) {
      const fallback = await tx.scalingPolicy.update({ where: { name: DEFAULT_POLICY }, data: { active: true } });
      await tx.scalingPolicyChange.create({
        data: {
          policyId: fallback.id,
          actor: SYSTEM_ACTOR.email,
          reason: "no policy was active: the default",
          after: json({ name: fallback.name, spec: fallback.spec }),
        },
      });
      result.activated = fallback.name;
    }
    return result;
  });
}

export interface StoredPolicy {
  id: string;
  name: string;
  preset: boolean;
  active: boolean;
  /** Null when the stored spec does not validate (written by hand, or by an older version). */
  spec: PolicySpec | null;
  error: string | null;
  updatedAt: Date;
  /** "file" when a configuration file manages it (see lib/control-plane/config-file). */
  managedBy: string | null;
}

type PolicyRow = {
  id: string;
  name: string;
  preset: boolean;
  active: boolean;
  spec: unknown;
  updatedAt: Date;
  managedBy: string | null;
};

function toStored(row: PolicyRow): StoredPolicy {
  const parsed = parsePolicySpec(row.spec);
  return {
    id: row.id,
    name: row.name,
    preset: row.preset,
    active: row.active,
    spec: parsed.ok ? parsed.spec : null,
    error: parsed.ok ? null : parsed.error,
    updatedAt: row.updatedAt,
    managedBy: row.managedBy,
  };
}

/** Whether the configuration file chooses the active policy (then only the file switches it). */
export async function activePolicyFromFile(db: PrismaClient | Tx): Promise<boolean> {
  const state = await db.configFileState.findUnique({ where: { id: 1 }, select: { activePolicy: true } });
  return Boolean(state?.activePolicy);
}

/** Presets first (in the guide's order), then custom policies by name. */
export async function listPolicies(prisma: PrismaClient | Tx): Promise<StoredPolicy[]> {
  const rows = await prisma.scalingPolicy.findMany({ orderBy: { name: "asc" } });
  const rank = (name: string) => (isPresetName(name) ? PRESET_NAMES.indexOf(name) : PRESET_NAMES.length);
  return rows.map(toStored).sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** The active policy as stored now (the decider reads it each run; instances use their FleetSnapshot). */
export async function getActivePolicy(prisma: PrismaClient | Tx): Promise<StoredPolicy | null> {
  const row = await prisma.scalingPolicy.findFirst({ where: { active: true } });
  return row ? toStored(row) : null;
}

/** Creates or replaces a custom policy. Presets are part of the product and cannot be overwritten. */
export async function savePolicy(prisma: PrismaClient, input: SavePolicyInput, actor: Actor): Promise<StoredPolicy> {
  const parsed = savePolicyInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join(".");
    throw new BadRequestError(field ? `${field}: ${issue.message}` : issue.message, {
      param: field || null,
      code: "invalid_field",
    });
  }
  if (isPresetName(parsed.data.name))
    throw new ConflictError(`"${parsed.data.name}" is a preset and cannot be changed; save the policy under another name.`, {
      param: "name",
    });
  return prisma.$transaction((tx) => savePolicyIn(tx, parsed.data, actor));
}

/**
 * savePolicy inside the caller's transaction, with validated input. `writer` is who manages what
 * it writes: null for a person (a policy a configuration file manages is refused), "file" for the file.
 */
export async function savePolicyIn(
  tx: Tx,
  { name, spec }: { name: string; spec: PolicySpec },
  actor: Actor,
  writer: string | null = null,
): Promise<StoredPolicy> {
  await lockPolicies(tx);
  const before = await tx.scalingPolicy.findUnique({ where: { name } });
  if (before?.preset)
    throw new ConflictError(`"${name}" is a preset and cannot be changed; save the policy under another name.`, {
      param: "name",
    });
  if (before?.managedBy && before.managedBy !== writer) throw managedByFile("Scaling policy", name);
  const row = before
    ? await tx.scalingPolicy.update({ where: { id: before.id }, data: { spec: json(spec), managedBy: writer } })
    : await tx.scalingPolicy.create({ data: { name, preset: false, spec: json(spec), managedBy: writer } });
  await tx.scalingPolicyChange.create({
    data: {
      policyId: row.id,
      actor: actor.email,
      reason: before ? "saved" : "created",
      before: before ? json({ name, spec: before.spec }) : undefined,
      after: json({ name, spec }),
    },
  });
  await recordAudit(tx, actor, {
    action: "scaling_policy.save",
    targetType: "scaling_policy",
    targetId: row.id,
    before: before ? { name, spec: before.spec, active: before.active, managedBy: before.managedBy } : null,
    after: { name, spec, active: row.active, managedBy: row.managedBy },
  });
  return toStored(row);
}

export interface ActivationResult {
  changed: boolean;
  before: StoredPolicy | null;
  after: StoredPolicy;
}

/** Makes `name` the active policy, in one transaction with its history row and audit entry. */
export async function activatePolicy(
  prisma: PrismaClient,
  name: string,
  actor: Actor,
  reason: string | null,
): Promise<ActivationResult> {
  return prisma.$transaction((tx) => activatePolicyIn(tx, name, actor, reason));
}

/** activatePolicy inside the caller's transaction; `writer` as in savePolicyIn (only the file switches a policy the file chose). */
export async function activatePolicyIn(
  tx: Tx,
  name: string,
  actor: Actor,
  reason: string | null,
  writer: string | null = null,
): Promise<ActivationResult> {
  await lockPolicies(tx);
  if (writer === null && (await activePolicyFromFile(tx))) {
    throw new ConflictError(
      "The active policy is chosen by the configuration file (scaling.active): change it there and apply the file.",
      { code: "managed_by_file" },
    );
  }
  const target = await tx.scalingPolicy.findUnique({ where: { name } });
  if (!target) throw new NotFoundError(`No scaling policy named "${name}".`, { param: "name" });
  const parsed = parsePolicySpec(target.spec);
  if (!parsed.ok)
    throw new BadRequestError(`Policy "${name}" is not valid and cannot be activated (${parsed.error}).`, {
      param: "name",
      code: "invalid_policy",
    });
  const current = await tx.scalingPolicy.findFirst({ where: { active: true } });
  if (current?.id === target.id) return { changed: false, before: toStored(current), after: toStored(current) };
  // Off first: the partial unique index allows one active row at any moment of the statement order.
  if (current) await tx.scalingPolicy.update({ where: { id: current.id }, data: { active: false } });
  const activated = await tx.scalingPolicy.update({ where: { id: target.id }, data: { active: true } });
  const before = current ? { name: current.name, spec: current.spec } : null;
  const after = { name: activated.name, spec: activated.spec };
  await tx.scalingPolicyChange.create({
    data: { policyId: activated.id, actor: actor.email, reason, before: before ? json(before) : undefined, after: json(after) },
  });
  await recordAudit(tx, actor, {
    action: "scaling_policy.activate",
    targetType: "scaling_policy",
    targetId: activated.id,
    before,
    after: { ...after, reason },
  });
  return { changed: true, before: current ? toStored({ ...current, active: false }) : null, after: toStored(activated) };
}

export interface PolicyChange {
  id: string;
  at: Date;
  policyName: string;
  actor: string;
  reason: string | null;
  before: unknown;
  after: unknown;
}

/** The policy history, newest first. */
export async function listPolicyChanges(prisma: PrismaClient, limit = 50): Promise<PolicyChange[]> {
  const rows = await prisma.scalingPolicyChange.findMany({
    orderBy: { id: "desc" },
    take: limit,
    include: { policy: { select: { name: true } } },
  });
  return rows.map((r) => ({
    id: r.id.toString(),
    at: r.at,
    policyName: r.policy.name,
    actor: r.actor,
    reason: r.reason,
    before: r.before,
    after: r.after,
  }));
}

/**
 * Deletes a custom policy. Presets are part of the product and the active policy is what the
 * fleet follows: both answer 409. The audit entry keeps the deleted spec (its history rows go with it).
 */
export async function deletePolicy(prisma: PrismaClient, id: string, actor: Actor): Promise<StoredPolicy> {
  return prisma.$transaction((tx) => deletePolicyIn(tx, id, actor));
}

/** deletePolicy inside the caller's transaction; `writer` as in savePolicyIn. */
export async function deletePolicyIn(tx: Tx, id: string, actor: Actor, writer: string | null = null): Promise<StoredPolicy> {
  await lockPolicies(tx);
  const row = await tx.scalingPolicy.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("No scaling policy with this id.");
  if (row.preset) throw new ConflictError(`"${row.name}" is a preset and cannot be deleted.`, { code: "policy_is_preset" });
  if (row.managedBy && row.managedBy !== writer) throw managedByFile("Scaling policy", row.name);
  if (row.active)
    throw new ConflictError(`"${row.name}" is the active policy: activate another one first, then delete it.`, {
      code: "policy_in_use",
    });
  await tx.scalingPolicy.delete({ where: { id: row.id } });
  await recordAudit(tx, actor, {
    action: "scaling_policy.delete",
    targetType: "scaling_policy",
    targetId: row.id,
    before: { name: row.name, spec: row.spec, active: false, managedBy: row.managedBy },
  });
  return toStored(row);
}
