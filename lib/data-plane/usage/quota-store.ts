// Claims in quota_windows: the fleet's counters for tokens per minute and spend per day and month,
// each window in database time — a calendar minute, day or month in the configured time zone, or,
// for tests, a "day" of a fixed length from the epoch.
import type pg from "pg";
import type { Claim, ClaimFn } from "../gateway/fleet-allowance";

export type QuotaKind = "tpm" | "budget_day" | "budget_month";
export type CalendarUnit = "minute" | "day" | "month";

const CLAIM_SQL = `
WITH w AS (
  SELECT CASE WHEN $5::bigint > 0 THEN date_bin($5::bigint * interval '1 millisecond', now(), timestamptz 'epoch')
              ELSE date_trunc($3::text, now(), $4::text) END AS start)
INSERT INTO quota_windows AS q (key_id, kind, window_start, used, last_grant)
SELECT $1::uuid, $2::text, w.start, LEAST($6::bigint, $7::bigint), LEAST($6::bigint, $7::bigint) FROM w
ON CONFLICT (key_id, kind, window_start) DO UPDATE
  SET used = q.used + LEAST($6::bigint, $7::bigint - q.used), last_grant = LEAST($6::bigint, $7::bigint - q.used)
  WHERE q.used < $7::bigint
RETURNING used::float8 AS used, last_grant::float8 AS last_grant, extract(epoch FROM window_start) * 1000 AS window_start_ms,
  extract(epoch FROM CASE WHEN $5::bigint > 0 THEN window_start + $5::bigint * interval '1 millisecond'
    ELSE (window_start AT TIME ZONE $4::text + ('1 ' || $3::text)::interval) AT TIME ZONE $4::text END) * 1000 AS window_end_ms,
  extract(epoch FROM now()) * 1000 AS now_ms`;

export interface QuotaWindowSpec {
  kind: QuotaKind;
  unit: CalendarUnit;
  timeZone: string;
  /** Tests: a window of this many milliseconds from the epoch instead of the calendar unit. */
  fixedMs?: number;
}

export function quotaClaim(pool: pg.Pool, spec: QuotaWindowSpec): ClaimFn {
  return async (keyId: string, want: number, limit: number): Promise<Claim | null> => {
    const { rows } = await pool.query<{
      used: number;
      last_grant: number;
      window_start_ms: string;
      window_end_ms: string;
      now_ms: string;
    }>(CLAIM_SQL, [keyId, spec.kind, spec.unit, spec.timeZone, spec.fixedMs ?? 0, Math.ceil(want), Math.floor(limit)]);
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
