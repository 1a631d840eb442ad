// Named queries over usage_buckets, one per question the Usage page asks. Minute rows for ranges
// within their retention, 10 min rows beyond; Prisma.sql templates throughout.
import type { Queryable } from "../../platform/db/client";
import { Prisma, rows } from "../../platform/metrics-history/sql";
import type { BudgetBurn, UsageGroup, UsagePoint, UsageRange, UsageTotals } from "./contracts";

const USAGE_RANGE_SPECS: Record<UsageRange, { label: string; seconds: number; stepSeconds: number; resolution: 60 | 600 }> = {
  "1h": { label: "1 hour", seconds: 3_600, stepSeconds: 60, resolution: 60 },
  "24h": { label: "24 hours", seconds: 86_400, stepSeconds: 1_800, resolution: 60 },
  "7d": { label: "7 days", seconds: 7 * 86_400, stepSeconds: 3 * 3_600, resolution: 600 },
  "30d": { label: "30 days", seconds: 30 * 86_400, stepSeconds: 12 * 3_600, resolution: 600 },
};

export interface UsageWindow {
  start: Date;
  end: Date;
  stepSeconds: number;
  resolution: 60 | 600;
}

/** The range's steps, ending now; the last step still filling. */
export function usageWindowFor(range: UsageRange, nowMs: number): UsageWindow {
  const { seconds, stepSeconds, resolution } = USAGE_RANGE_SPECS[range];
  const stepMs = stepSeconds * 1_000;
  const lastStepEnd = Math.ceil(nowMs / stepMs) * stepMs;
  return { start: new Date(lastStepEnd - seconds * 1_000), end: new Date(nowMs), stepSeconds, resolution };
}

const inWindow = (w: UsageWindow) =>
  Prisma.sql`resolution = ${w.resolution}::int AND bucket >= ${w.start}::timestamptz AND bucket < ${w.end}::timestamptz`;

const SUMS = Prisma.sql`coalesce(sum(requests), 0)::float8 AS requests, coalesce(sum(prompt_tokens), 0)::float8 AS "promptTokens",
  coalesce(sum(completion_tokens), 0)::float8 AS "completionTokens", coalesce(sum(cost_usd), 0)::float8 AS "costUsd",
  coalesce(sum(cache_hits), 0)::float8 AS "cacheHits", coalesce(sum(saved_usd), 0)::float8 AS "savedUsd"`;

export async function usageTotals(db: Queryable, w: UsageWindow): Promise<UsageTotals> {
  const [row] = await rows<UsageTotals>(db, Prisma.sql`SELECT ${SUMS} FROM usage_buckets WHERE ${inWindow(w)}`);
  return row!;
}

/** Spend, tokens and savings per step; steps nobody recorded anything in are gaps (null). */
export async function usageOverTime(db: Queryable, w: UsageWindow): Promise<UsagePoint[]> {
  const found = await rows<{ t: Date; cost: number; tokens: number; saved: number }>(
    db,
    Prisma.sql`SELECT date_bin(${w.stepSeconds}::int * interval '1 second', bucket, timestamptz 'epoch') AS t,
      sum(cost_usd)::float8 AS cost, sum(prompt_tokens + completion_tokens)::float8 AS tokens, sum(saved_usd)::float8 AS saved
      FROM usage_buckets WHERE ${inWindow(w)} GROUP BY 1`,
  );
  const byStep = new Map(found.map((r) => [r.t.getTime(), r]));
  const points: UsagePoint[] = [];
  for (let t = w.start.getTime(); t < w.end.getTime(); t += w.stepSeconds * 1_000) {
    const r = byStep.get(t);
    points.push({ t, costUsd: r?.cost ?? null, tokens: r?.tokens ?? null, savedUsd: r?.saved ?? null });
  }
  return points;
}

const GROUPINGS = {
  key: Prisma.sql`u.key_id::text AS id, coalesce(k.name, u.key_id::text) AS name`,
  model: Prisma.sql`u.model AS id, u.model AS name`,
  // The deployment label is provider/upstream model; "cache" and "none" stand for themselves.
  provider: Prisma.sql`split_part(u.deployment, '/', 1) AS id, split_part(u.deployment, '/', 1) AS name`,
} as const;

/** Totals per key, model or provider over the window, most spent first. */
export async function usageBy(db: Queryable, w: UsageWindow, by: keyof typeof GROUPINGS, limit = 50): Promise<UsageGroup[]> {
  return rows<UsageGroup>(
    db,
    Prisma.sql`SELECT ${GROUPINGS[by]}, ${SUMS}
      FROM usage_buckets u LEFT JOIN api_keys k ON k.id = u.key_id
      WHERE u.${inWindow(w)} GROUP BY 1, 2 ORDER BY "costUsd" DESC, requests DESC LIMIT ${limit}::int`,
  );
}

/**
 * Each budgeted key's spend in the current calendar day and month of `timeZone`: 10 min rows for
 * the month's older part (minute rows may be pruned by then), minute rows for the last hour-plus.
 */
export async function budgetBurnDown(db: Queryable, timeZone: string): Promise<BudgetBurn[]> {
  return rows<BudgetBurn>(
    db,
    Prisma.sql`
      WITH bounds AS (
        SELECT date_trunc('day', now(), ${timeZone}::text) AS day_start, date_trunc('month', now(), ${timeZone}::text) AS month_start,
          date_bin(interval '10 minutes', now() - interval '1 hour', timestamptz 'epoch') AS cutoff),
      spend AS (
        SELECT u.key_id,
          sum(u.cost_usd) FILTER (WHERE u.resolution = 60 AND u.bucket >= b.day_start) AS today,
          sum(u.cost_usd) FILTER (WHERE (u.resolution = 600 AND u.bucket >= b.month_start AND u.bucket < b.cutoff)
            OR (u.resolution = 60 AND u.bucket >= greatest(b.cutoff, b.month_start))) AS month
        FROM usage_buckets u, bounds b
        WHERE u.bucket >= least(b.day_start, b.month_start) AND u.key_id IN (
          SELECT id FROM api_keys WHERE revoked_at IS NULL AND (budget_daily_usd IS NOT NULL OR budget_monthly_usd IS NOT NULL OR tpm_limit IS NOT NULL))
        GROUP BY u.key_id)
      SELECT k.id::text AS "keyId", k.name, k.budget_daily_usd AS "budgetDailyUsd", k.budget_monthly_usd AS "budgetMonthlyUsd", k.tpm_limit AS "tpmLimit",
        coalesce(s.today, 0)::float8 AS "spentTodayUsd", coalesce(s.month, 0)::float8 AS "spentThisMonthUsd"
      FROM api_keys k LEFT JOIN spend s ON s.key_id = k.id
      WHERE k.revoked_at IS NULL AND (k.budget_daily_usd IS NOT NULL OR k.budget_monthly_usd IS NOT NULL OR k.tpm_limit IS NOT NULL)
      ORDER BY k.name`,
  );
}

/** Every stored row of the window, for the CSV export (bounded by the range's size). */
export async function usageExportRows(db: Queryable, w: UsageWindow) {
  return rows<{
    bucket: Date;
    key_id: string;
    key_name: string | null;
    model: string;
    deployment: string;
    endpoint: string;
    status_class: string;
    requests: string;
    prompt_tokens: string;
    completion_tokens: string;
    cached_tokens: string;
    cost_usd: number;
    cache_hits: string;
    saved_usd: number;
  }>(
    db,
    Prisma.sql`SELECT u.bucket, u.key_id::text, k.name AS key_name, u.model, u.deployment, u.endpoint, u.status_class,
      sum(u.requests) AS requests, sum(u.prompt_tokens) AS prompt_tokens, sum(u.completion_tokens) AS completion_tokens,
      sum(u.cached_tokens) AS cached_tokens, sum(u.cost_usd)::float8 AS cost_usd, sum(u.cache_hits) AS cache_hits, sum(u.saved_usd)::float8 AS saved_usd
      FROM usage_buckets u LEFT JOIN api_keys k ON k.id = u.key_id
      WHERE u.${inWindow(w)}
      GROUP BY u.bucket, u.key_id, k.name, u.model, u.deployment, u.endpoint, u.status_class
      ORDER BY u.bucket, k.name, u.model`,
  );
}

/**
 * The overview's usage panel: spend per hour and tokens per second, fleet-wide, on a grid of at
 * least a minute (usage is counted per minute) over [start, end). Steps nobody recorded anything in are gaps.
 */
export async function spendAndTokenRates(db: Queryable, start: Date, end: Date, stepSeconds: number) {
  const step = Math.max(60, stepSeconds);
  const found = await rows<{ t: Date; cost: number; tokens: number }>(
    db,
    Prisma.sql`SELECT date_bin(${step}::int * interval '1 second', bucket, timestamptz 'epoch') AS t,
      sum(cost_usd)::float8 AS cost, sum(prompt_tokens + completion_tokens)::float8 AS tokens
      FROM usage_buckets WHERE resolution = 60 AND bucket >= ${start}::timestamptz AND bucket < ${end}::timestamptz GROUP BY 1`,
  );
  const byStep = new Map(found.map((r) => [r.t.getTime(), r]));
  const first = Math.floor(start.getTime() / (step * 1_000)) * step * 1_000;
  const spend: Array<{ t: number; v: number | null }> = [];
  const tokens: Array<{ t: number; v: number | null }> = [];
  for (let t = first; t < end.getTime(); t += step * 1_000) {
    const r = byStep.get(t);
    spend.push({ t, v: r ? (r.cost * 3_600) / step : null });
    tokens.push({ t, v: r ? r.tokens / step : null });
  }
  return [
    { name: "spend_per_hour", points: spend },
    { name: "tokens_per_second", points: tokens },
  ];
}
