// The instance registry: each instance registers on start, heartbeats with its vital signs,
// flips to draining on SIGTERM and removes itself on clean exit; the leader marks instances that
// stopped heartbeating as dead. The console's instance list reads it.
import type { PrismaClient } from "../db/generated/client";
import type pg from "pg";
import { fenceCondition, fenceValues, type Fence } from "./lease";

export interface InstanceIdentity {
  id: string;
  host: string;
  port: number;
  version: string;
}

export async function registerInstance(prisma: PrismaClient, identity: InstanceIdentity): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO instances (id, host, port, version, status, started_at, last_seen_at)
    VALUES (${identity.id}, ${identity.host}, ${identity.port}, ${identity.version}, 'healthy', now(), now())
    ON CONFLICT (id) DO UPDATE SET host = excluded.host, port = excluded.port, version = excluded.version,
      status = 'healthy', started_at = now(), last_seen_at = now()`;
}

/**
 * Refreshes last_seen_at and the vital signs. Re-creates the row if the leader reaped it (the
 * instance was only slow), and revives a row marked dead; a draining row stays draining.
 */
export async function heartbeat(prisma: PrismaClient, identity: InstanceIdentity, vitals: object, draining: boolean): Promise<void> {
  const status = draining ? "draining" : "healthy";
  await prisma.$executeRaw`
    INSERT INTO instances (id, host, port, version, status, started_at, last_seen_at, vitals)
    VALUES (${identity.id}, ${identity.host}, ${identity.port}, ${identity.version}, ${status}::"InstanceStatus", now(), now(), ${JSON.stringify(vitals)}::jsonb)
    ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), vitals = excluded.vitals,
      status = CASE WHEN instances.status = 'draining' THEN instances.status ELSE excluded.status END`;
}

export async function markDraining(prisma: PrismaClient, id: string): Promise<void> {
  await prisma.instance.updateMany({ where: { id }, data: { status: "draining" } });
}

export async function deregisterInstance(prisma: PrismaClient, id: string): Promise<void> {
  await prisma.instance.deleteMany({ where: { id } });
}

export async function listInstances(prisma: PrismaClient) {
  return prisma.instance.findMany({ orderBy: { startedAt: "asc" } });
}

/** Instances heard from within `withinSeconds` and not draining. */
export async function countLiveInstances(prisma: PrismaClient, withinSeconds = 15): Promise<number> {
  const rows = await prisma.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM instances
    WHERE status = 'healthy' AND last_seen_at > now() - make_interval(secs => ${withinSeconds})`;
  return rows[0]?.n ?? 1;
}

/**
 * Leader job: marks instances silent for longer than `deadAfterMs` as dead, and forgets dead ones
 * after `forgetAfterMs`. Fenced by the leadership token: a deposed leader's late write is refused.
 * Database time is the only clock. Returns the ids newly marked dead.
 */
export async function reapDeadInstances(pool: pg.Pool, fence: Fence, deadAfterMs: number, forgetAfterMs: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH reaped AS (
       UPDATE instances SET status = 'dead'
       WHERE status <> 'dead' AND last_seen_at < now() - make_interval(secs => $4::float / 1000)
         AND ${fenceCondition(1)}
       RETURNING id
     ), forgotten AS (
       DELETE FROM instances WHERE status = 'dead' AND last_seen_at < now() - make_interval(secs => $5::float / 1000)
         AND ${fenceCondition(1)}
     )
     SELECT id FROM reaped`,
    [...fenceValues(fence), deadAfterMs, forgetAfterMs],
  );
  return rows.map((r) => r.id);
}
