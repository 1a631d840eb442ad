// The key_budget_used_percent alert metric: per budgeted API key (the subject is "key:<name>"),
// the larger share of its daily and monthly budgets used — what was spent (usage_buckets) or,
// when more, what instances have claimed from the fleet's counter (quota_windows: the counter
// reaches 100% exactly when the budget is exhausted, while a little credit may still be unspent).
import type pg from "pg";
import { budgetBurnDown } from "../usage/queries";

const MICRO = 1_000_000;

export async function keyBudgetUse(pool: pg.Pool, timeZone: string): Promise<Map<string, number | null>> {
  const [burn, claimed] = await Promise.all([
    budgetBurnDown(pool, timeZone),
    // The current calendar day's and month's windows (a BUDGET_TEST_DAY_MS window is counted by spend only).
    pool.query<{ key_id: string; kind: string; used: number }>(
      `SELECT key_id::text, kind, used::float8 AS used FROM quota_windows
       WHERE (kind = 'budget_day' AND window_start = date_trunc('day', now(), $1::text))
          OR (kind = 'budget_month' AND window_start = date_trunc('month', now(), $1::text))`,
      [timeZone],
    ),
  ]);
  const claimedBy = new Map<string, number>();
  for (const row of claimed.rows) claimedBy.set(`${row.key_id} ${row.kind}`, row.used / MICRO);
  const use = new Map<string, number | null>();
  for (const key of burn) {
    const shares: number[] = [];
    if (key.budgetDailyUsd)
      shares.push(Math.max(key.spentTodayUsd, claimedBy.get(`${key.keyId} budget_day`) ?? 0) / key.budgetDailyUsd);
    if (key.budgetMonthlyUsd)
      shares.push(Math.max(key.spentThisMonthUsd, claimedBy.get(`${key.keyId} budget_month`) ?? 0) / key.budgetMonthlyUsd);
    if (shares.length > 0) use.set(`key:${key.name}`, 100 * Math.max(...shares));
  }
  return use;
}
