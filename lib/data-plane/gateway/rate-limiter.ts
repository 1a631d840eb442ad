// Fleet-wide requests-per-minute limits without a database round trip per request.
//
// Each key has a row per fixed one-minute window (database time) counting the permits granted
// to all instances. An instance claims permits in batches with one atomic statement that never
// grants past the limit, then admits requests from its local batch. A batch is a share of what is
// left sized for the whole fleet (what is left ÷ twice the live instances, at most 100, at least
// one), so even when every instance claims at once they take at most half of what is left, and
// the permits stranded on instances whose traffic stopped stay a small share of the limit however
// many instances there are. (A fixed share of what is left — an eighth — let the first eight of
// forty instances take the whole window in one round while the other thirty-two refused.) The
// fleet therefore never admits more than the limit in a window; it can admit slightly fewer (see
// docs/gateway.md, "Rate limits"). The cost: with a limit below twice the instance count every
// claim is one permit, a database round trip per admitted request for that key — at most the
// limit's own rate, so small.
//
// If the database is unreachable, each instance falls back to an equal local share of the
// limit (limit ÷ live instances), so limits still hold roughly while traffic keeps flowing.
import type pg from "pg";

const WINDOW_MS = 60_000;
const MAX_BATCH = 100;

interface KeyWindow {
  windowStart: number;
  permits: number;
  /** Fleet-wide permits left after the last claim. */
  remaining: number;
  /** No more permits to claim in this window (the fleet used them, or the fallback share is given). */
  exhausted: boolean;
  claim?: Promise<void>;
}

export interface Admission {
  allowed: boolean;
  /** Seconds until the window ends, for Retry-After. */
  retryAfterSeconds: number;
}

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
RETURNING used, last_grant, extract(epoch FROM window_start) * 1000 AS window_start_ms, extract(epoch FROM now()) * 1000 AS now_ms`;

/** Permits one claim asks for: a fleet-wide share of what is left in the window. */
export function claimSize(remaining: number, liveInstances: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(remaining / (2 * Math.max(1, liveInstances)))));
}

export class FleetRateLimiter {
  private readonly windows = new Map<string, KeyWindow>();
  /** Database clock minus local clock, learned from each claim. */
  private clockOffsetMs = 0;

  constructor(private readonly options: RateLimiterOptions) {}

  /** Synchronous when this instance holds permits (the common case); a claim otherwise. */
  admit(keyId: string, limit: number): Admission | Promise<Admission> {
    const now = Date.now() + this.clockOffsetMs;
    const windowStart = now - (now % WINDOW_MS);
    let window = this.windows.get(keyId);
    if (!window || window.windowStart < windowStart) {
      window = { windowStart, permits: 0, remaining: limit, exhausted: false };
      this.windows.set(keyId, window);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((window.windowStart + WINDOW_MS - now) / 1000));
    if (window.permits > 0) {
      window.permits--;
      return { allowed: true, retryAfterSeconds };
    }
    if (window.exhausted) return { allowed: false, retryAfterSeconds };
    return this.claim(keyId, limit, window).then(() => this.admit(keyId, limit));
  }

  /** Drops state for windows that ended (called periodically). */
  prune(): void {
    const now = Date.now() + this.clockOffsetMs;
    for (const [key, window] of this.windows) if (window.windowStart + WINDOW_MS < now) this.windows.delete(key);
  }

  private claim(keyId: string, limit: number, window: KeyWindow): Promise<void> {
    window.claim ??= this.runClaim(keyId, limit, window).finally(() => {
      window.claim = undefined;
    });
    return window.claim;
  }

  private async runClaim(keyId: string, limit: number, window: KeyWindow): Promise<void> {
    const batch = claimSize(window.remaining, this.options.instanceCount());
    try {
      const { rows } = await this.options.pool.query<{ used: number; last_grant: number; window_start_ms: string; now_ms: string }>(
        CLAIM_SQL,
        [keyId, batch, limit],
      );
      const row = rows[0];
      if (!row) {
        window.exhausted = true;
        return;
      }
      this.clockOffsetMs = Number(row.now_ms) - Date.now();
      const dbWindowStart = Number(row.window_start_ms);
      if (dbWindowStart !== window.windowStart) {
        // Our clock estimate was off by a window edge: adopt the database's window.
        window.windowStart = dbWindowStart;
      }
      window.permits += row.last_grant;
      window.remaining = limit - row.used;
      if (row.last_grant === 0) window.exhausted = true;
    } catch (error) {
      this.options.onDatabaseError?.(error as Error);
      // Local fallback: this instance's equal share of the window, then closed until it ends.
      window.permits += Math.max(1, Math.floor(limit / Math.max(1, this.options.instanceCount())));
      window.exhausted = true;
    }
  }
}
