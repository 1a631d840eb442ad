// The audit log: one row per change (who, when, what, the target, its state before → after),
// written in the same transaction as the change itself.
import os from "node:os";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import type { AuditQuery } from "../console/contracts";

export type Db = PrismaClient | Prisma.TransactionClient;

export interface Actor {
  /** Null for the system (first start) and for CLIs run on the server. */
  id: string | null;
  email: string;
}

/** Changes made by the process itself (first start) or by code with no person behind it. */
export const SYSTEM_ACTOR: Actor = { id: null, email: "system" };

/** An admin CLI run on the server: named by the operating-system user who ran it. */
export function cliActor(): Actor {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = `uid ${process.getuid?.() ?? "unknown"}`; // no passwd entry for this uid (some containers)
  }
  return { id: null, email: `cli:${user}` };
}

export interface AuditChange {
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Dates become ISO strings and undefined fields drop out: what is stored is what JSON shows. */
function snapshot(value: unknown): Prisma.InputJsonValue | undefined {
  return value === undefined || value === null ? undefined : (JSON.parse(JSON.stringify(value)) as Prisma.InputJsonValue);
}

export async function recordAudit(db: Db, actor: Actor, change: AuditChange): Promise<void> {
  await db.auditEntry.create({
    data: {
      actorId: actor.id,
      actorEmail: actor.email,
      action: change.action,
      targetType: change.targetType,
      targetId: change.targetId ?? null,
      before: snapshot(change.before),
      after: snapshot(change.after),
    },
  });
}

/** Newest first; `before` is the id to continue below (keyset pagination). */
export async function listAudit(db: Db, query: AuditQuery) {
  const where: Prisma.AuditEntryWhereInput = {
    ...(query.action ? { action: query.action } : {}),
    ...(query.targetType ? { targetType: query.targetType } : {}),
    ...(query.actor ? { actorEmail: { contains: query.actor, mode: "insensitive" } } : {}),
    ...(query.targetId ? { targetId: query.targetId } : {}),
    ...(query.before ? { id: { lt: BigInt(query.before) } } : {}),
  };
  const rows = await db.auditEntry.findMany({ where, orderBy: { id: "desc" }, take: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  return {
    entries: page.map((row) => ({ ...row, id: row.id.toString(), at: row.at.toISOString() })),
    nextBefore: rows.length > query.limit ? page[page.length - 1]!.id.toString() : null,
  };
}
