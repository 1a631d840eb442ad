// Fleet-wide requests-per-minute limits without a database round trip per request: a
// FleetAllowance (lib/data-plane/gateway/fleet-allowance.ts) of one permit per request, counted per key
// in one-minute windows of database time in rate_limit_windows. The fleet never admits more than
// the limit in a window; it can admit slightly fewer (see docs/gateway.md, "Rate limits").
import type pg from "pg";
import { type Admission, type Claim, claimSize as allowanceClaimSize, FleetAllowance } from "./fleet-allowance";

export type { Admission };

const WINDOW_MS = 60_000;
const MAX_BATCH = 100;

export interface RateLimiterOptions {
  pool: pg.Pool;
  /** Live data-plane instances in the fleet: sizes claims, and the fallback share while the database is away. */
  instanceCount: () => number;
  onDatabaseError?: (error: Error) => void;
}

const CLAIM_SQL = `
INSERT INTO rate_limit_windows AS w (key_id, window_start, used, last_grant)
VALUES ($1, date_trunc('minute', now()), LEAST($2::int, $3::int), LEAST($2::int, $3::int))
ON CONFLICT (key_id, window_start) DO UPDATE
  SET used = w.used + LEAST($2::int, $3::int - w.used), last_grant = LEAST($2::int, $3::int - w.used)
  WHERE w.used < $3::int
RETURNING used, last_grant, extract(epoch FROM window_start) * 1000 AS window_start_ms,
  extract(epoch FROM window_start + interval '1 minute') * 1000 AS window_end_ms, extract(epoch FROM now()) * 1000 AS now_ms`;

/** Claims in rate_limit_windows' current minute. */
function rateLimitClaim(pool: pg.Pool) {
  return async (keyId: string, want: number, limit: number): Promise<Claim | null> => {
    const { rows } = await pool.query<{
      used: number;
      last_grant: number;
      window_start_ms: string;
      window_end_ms: string;
      now_ms: string;
    }>(CLAIM_SQL, [keyId, want, limit]);
    const row = rows[0];
    if (!row) return null;
    return {
      granted: row.last_grant,
      used: row.used,
      windowStartMs: Number(row.window_start_ms),
      windowEndMs: Number(row.window_end_ms),
      nowMs: Number(row.now_ms),
    };
  };
}

/** Permits one claim asks for. */
export function claimSize(remaining: number, liveInstances: number): number {
  return allowanceClaimSize(remaining, liveInstances, MAX_BATCH);
}

export class FleetRateLimiter {
  private readonly allowance: FleetAllowance;

  constructor(options: RateLimiterOptions) {
    this.allowance = new FleetAllowance({
      claim: rateLimitClaim(options.pool),
      instanceCount: options.instanceCount,
      maxBatch: MAX_BATCH,
      fallbackWindowMs: WINDOW_MS,
      onDatabaseError: options.onDatabaseError,
    });
  }

  /** Synchronous when this instance holds permits (the common case); a claim otherwise. */
  admit(keyId: string, limit: number): Admission | Promise<Admission> {
    return this.allowance.admit(keyId, limit, 1);
  }

  /** Drops state for windows that ended (called periodically). */
  prune(): void {
    this.allowance.prune();
  }
}
