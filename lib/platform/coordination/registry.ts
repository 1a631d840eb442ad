// The instance registry: each instance registers on start, heartbeats with its vital signs,
// flips to draining on SIGTERM and removes itself on clean exit; the leader marks instances that
// stopped heartbeating as dead. The console's instance list reads it. Plain SQL on the pool: the
// heartbeat runs every few seconds beside the hot path, and Prisma's query interpreter costs
// milliseconds of event loop per call.
import type pg from "pg";
import type { Queryable } from "../db/client";
import { fenceCondition, fenceValues, type Fence } from "./lease";

/** What an instance serves; capacity and scaling count the ones that serve the gateway. */
export type InstanceRole = "data_plane" | "console" | "both";

/** Roles that serve the data plane: the instances that capacity, scaling and rate-limit shares count. */
const DATA_PLANE_ROLES: readonly InstanceRole[] = ["data_plane", "both"];

export function instanceRole({
  consoleEnabled,
  dataPlaneEnabled,
}: {
  consoleEnabled: boolean;
  dataPlaneEnabled: boolean;
}): InstanceRole {
  if (consoleEnabled && dataPlaneEnabled) return "both";
  return consoleEnabled ? "console" : "data_plane";
}

export interface InstanceIdentity {
  id: string;
  host: string;
  port: number;
  version: string;
  role: InstanceRole;
}

export async function registerInstance(pool: Queryable, identity: InstanceIdentity): Promise<void> {
  await pool.query(
    `INSERT INTO instances (id, host, port, version, role, status, started_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5::"InstanceRole", 'healthy', now(), now())
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, port = excluded.port, version = excluded.version, role = excluded.role,
       status = 'healthy', started_at = now(), last_seen_at = now()`,
    [identity.id, identity.host, identity.port, identity.version, identity.role],
  );
}

export interface HeartbeatAnswer {
  /** Live data-plane instances (this one included unless draining or console-only): see countLiveInstances. */
  liveDataPlane: number;
  /** config_version as the heartbeat read it: the configuration's safety-net check rides on the heartbeat. */
  configVersion: string;
  /** Milliseconds the leader lease has left (negative once expired; null without one): followers wait on it. */
  leaderHeldForMs: number | null;
  /** Batch jobs wait to be claimed (queued, or held under a lapsed lease): an idle worker should look now. */
  batchWorkWaiting: boolean;
}

/**
 * Refreshes last_seen_at and the vital signs. Re-creates the row if the leader reaped it (the
 * instance was only slow), and revives a row marked dead; a draining row stays draining.
 * One statement, one transaction: it also counts the live data-plane instances, reads the
 * configuration's version, how long the leader lease has left and whether batch jobs wait (two
 * probes of partial indexes; without NOTIFY it is what wakes idle workers), which would otherwise cost each
 * instance more transactions per period (the largest share of an idle instance's load on PostgreSQL; see docs/operations.md,
 * "Fleet size"). The count reads the table as it was before this write, so this instance's own
 * row is counted from its arguments instead.
 */
export async function heartbeat(
  pool: Queryable,
  identity: InstanceIdentity,
  vitals: object,
  draining: boolean,
  liveWithinSeconds = 15,
): Promise<HeartbeatAnswer> {
  const { rows } = await pool.query<{
    others: number;
    config_version: string;
    leader_held_for_ms: number | null;
    batch_work: boolean;
  }>(
    `WITH beat AS (
       INSERT INTO instances (id, host, port, version, role, status, started_at, last_seen_at, vitals)
       VALUES ($1, $2, $3, $4, $5::"InstanceRole", $6::"InstanceStatus", now(), now(), $7::jsonb)
       ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), vitals = excluded.vitals, role = excluded.role,
         status = CASE WHEN instances.status = 'draining' THEN instances.status ELSE excluded.status END
       RETURNING id
     )
     SELECT (SELECT count(*)::int FROM instances
               WHERE id <> $1 AND status = 'healthy' AND role IN ('data_plane', 'both')
                 AND last_seen_at > now() - make_interval(secs => $8)) AS others,
            (SELECT version::text FROM config_version WHERE id = 1) AS config_version,
            (SELECT (extract(epoch FROM expires_at - now()) * 1000)::float8 FROM leases WHERE name = 'leader') AS leader_held_for_ms,
            EXISTS (SELECT 1 FROM batch_jobs WHERE status = 'queued')
              OR EXISTS (SELECT 1 FROM batch_jobs WHERE status = 'running' AND lease_expires_at < now()) AS batch_work`,
    [
      identity.id,
      identity.host,
      identity.port,
      identity.version,
      identity.role,
      draining ? "draining" : "healthy",
      JSON.stringify(vitals),
      liveWithinSeconds,
    ],
  );
  const row = rows[0]!;
  const selfCounts = !draining && DATA_PLANE_ROLES.includes(identity.role);
  return {
    liveDataPlane: row.others + (selfCounts ? 1 : 0),
    configVersion: row.config_version,
    leaderHeldForMs: row.leader_held_for_ms,
    batchWorkWaiting: row.batch_work,
  };
}

export async function markDraining(pool: Queryable, id: string): Promise<void> {
  await pool.query(`UPDATE instances SET status = 'draining' WHERE id = $1`, [id]);
}

export async function deregisterInstance(pool: Queryable, id: string): Promise<void> {
  await pool.query(`DELETE FROM instances WHERE id = $1`, [id]);
}

/** Data-plane instances heard from within `withinSeconds` and not draining. */
export async function countLiveInstances(pool: Queryable, withinSeconds = 15): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM instances
     WHERE status = 'healthy' AND role IN ('data_plane', 'both') AND last_seen_at > now() - make_interval(secs => $1)`,
    [withinSeconds],
  );
  return rows[0]?.n ?? 1;
}

/**
 * Leader job: marks instances silent for longer than `deadAfterMs` as dead, and forgets dead ones
 * after `forgetAfterMs`. Fenced by the leadership token: a deposed leader's late write is refused.
 * Database time is the only clock. Returns the ids newly marked dead.
 */
export async function reapDeadInstances(
  pool: pg.Pool,
  fence: Fence,
  deadAfterMs: number,
  forgetAfterMs: number,
): Promise<string[]> {
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
