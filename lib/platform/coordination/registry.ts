// The instance registry: each instance registers on start, heartbeats with its vital signs,
// flips to draining on SIGTERM and removes itself on clean exit; the leader marks instances that
// stopped heartbeating as dead. The console's instance list reads it. Plain SQL on the pool: the
// heartbeat runs every few seconds beside the hot path, and Prisma's query interpreter costs
// milliseconds of event loop per call.
import type pg from "pg";
import type { Queryable } from "../db/client";
import { fenceCondition, fenceValues, type Fence } from "./lease";

export interface InstanceIdentity {
  id: string;
  host: string;
  port: number;
  version: string;
}

export async function registerInstance(pool: Queryable, identity: InstanceIdentity): Promise<void> {
  await pool.query(
    `INSERT INTO instances (id, host, port, version, status, started_at, last_seen_at)
     VALUES ($1, $2, $3, $4, 'healthy', now(), now())
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, port = excluded.port, version = excluded.version,
       status = 'healthy', started_at = now(), last_seen_at = now()`,
    [identity.id, identity.host, identity.port, identity.version],
  );
}

/**
 * Refreshes last_seen_at and the vital signs. Re-creates the row if the leader reaped it (the
 * instance was only slow), and revives a row marked dead; a draining row stays draining.
 */
export async function heartbeat(pool: Queryable, identity: InstanceIdentity, vitals: object, draining: boolean): Promise<void> {
  await pool.query(
    `INSERT INTO instances (id, host, port, version, status, started_at, last_seen_at, vitals)
     VALUES ($1, $2, $3, $4, $5::"InstanceStatus", now(), now(), $6::jsonb)
     ON CONFLICT (id) DO UPDATE SET last_seen_at = now(), vitals = excluded.vitals,
       status = CASE WHEN instances.status = 'draining' THEN instances.status ELSE excluded.status END`,
    [identity.id, identity.host, identity.port, identity.version, draining ? "draining" : "healthy", JSON.stringify(vitals)],
  );
}

export async function markDraining(pool: Queryable, id: string): Promise<void> {
  await pool.query(`UPDATE instances SET status = 'draining' WHERE id = $1`, [id]);
}

export async function deregisterInstance(pool: Queryable, id: string): Promise<void> {
  await pool.query(`DELETE FROM instances WHERE id = $1`, [id]);
}

/** Instances heard from within `withinSeconds` and not draining. */
export async function countLiveInstances(pool: Queryable, withinSeconds = 15): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM instances WHERE status = 'healthy' AND last_seen_at > now() - make_interval(secs => $1)`,
    [withinSeconds],
  );
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
