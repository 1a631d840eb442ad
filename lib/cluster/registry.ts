// The instance registry: each instance registers on start, heartbeats, flips to draining on
// SIGTERM and removes itself on clean exit. The console's instance list reads it.
import type { PrismaClient } from "../db/generated/client";

export interface InstanceIdentity {
  id: string;
  host: string;
  port: number;
  version: string;
}

export async function registerInstance(prisma: PrismaClient, identity: InstanceIdentity): Promise<void> {
  const now = new Date();
  await prisma.instance.upsert({
    where: { id: identity.id },
    create: { ...identity, status: "healthy", startedAt: now, lastSeenAt: now },
    update: { host: identity.host, port: identity.port, version: identity.version, status: "healthy", startedAt: now, lastSeenAt: now },
  });
}

export async function heartbeat(prisma: PrismaClient, id: string, vitals: object): Promise<void> {
  await prisma.$executeRaw`UPDATE instances SET last_seen_at = now(), vitals = ${JSON.stringify(vitals)}::jsonb WHERE id = ${id}`;
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
