// The instance registry as both sources report it: identity and status come from PostgreSQL
// (lib/platform/coordination/registry.ts) whichever source serves the numbers.
import { Prisma, rows, type Queryable } from "../sql";
import type { InstanceHealth } from "./types";

export type RegisteredInstance = Omit<InstanceHealth, "cpuPercent" | "rssBytes" | "requestsPerSecond" | "inFlight">;

export async function readRegisteredInstances(db: Queryable): Promise<RegisteredInstance[]> {
  const found = await rows<{
    id: string;
    host: string;
    port: number;
    version: string;
    status: InstanceHealth["status"];
    role: InstanceHealth["role"];
    started_at: Date;
    last_seen_at: Date;
  }>(
    db,
    Prisma.sql`SELECT id, host, port, version, status::text AS status, role::text AS role, started_at, last_seen_at FROM instances ORDER BY started_at, id`,
  );
  return found.map((r) => ({
    id: r.id,
    host: r.host,
    port: r.port,
    version: r.version,
    status: r.status,
    role: r.role,
    startedAt: r.started_at,
    lastSeenAt: r.last_seen_at,
  }));
}

export interface InstanceVitals {
  cpuPercent: number | null;
  rssBytes: number | null;
  requestsPerSecond: number | null;
  inFlight: number | null;
}

export function withVitals(instances: RegisteredInstance[], vitals: Map<string, Partial<InstanceVitals>>): InstanceHealth[] {
  return instances.map((instance) => {
    const v = vitals.get(instance.id) ?? {};
    return {
      ...instance,
      cpuPercent: v.cpuPercent ?? null,
      rssBytes: v.rssBytes ?? null,
      requestsPerSecond: v.requestsPerSecond ?? null,
      inFlight: v.inFlight ?? null,
    };
  });
}
