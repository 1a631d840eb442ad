// Per-key spend budgets (USD per day and month) and tokens-per-minute limits, fleet-wide: each a
// FleetAllowance (lib/data-plane/gateway/fleet-allowance.ts) over quota_windows. A request is
// checked at admission (a positive balance on every quota the key has) and its tokens and cost are
// consumed when it ends, streams included. Budgets are counted in micro-dollars.
import type pg from "pg";
import type { ApiKeyEntry } from "../fleet-config/snapshot";
import { type Admission, FleetAllowance } from "../gateway/fleet-allowance";
import { InsufficientQuotaError, RateLimitError } from "../../platform/errors";
import { quotaClaim, type QuotaWindowSpec } from "./quota-store";

const MICRO = 1_000_000;

export interface KeyQuotasOptions {
  pool: pg.Pool;
  instanceCount: () => number;
  timeZone: string;
  /** Tests: budget "days" of this many milliseconds (months then last 30 of them). */
  testDayMs?: number;
  onDatabaseError?: (error: Error) => void;
}

export const hasQuotas = (key: ApiKeyEntry) =>
  key.tpmLimit !== null || key.budgetDailyUsd !== null || key.budgetMonthlyUsd !== null;

const usd = (micro: number) => `$${(micro / MICRO).toFixed(2)}`;

export class KeyQuotas {
  private readonly tpm: FleetAllowance;
  private readonly day: FleetAllowance;
  private readonly month: FleetAllowance;

  constructor(options: KeyQuotasOptions) {
    const allowance = (spec: QuotaWindowSpec, maxBatch: number, fallbackWindowMs: number) =>
      new FleetAllowance({
        claim: quotaClaim(options.pool, spec),
        instanceCount: options.instanceCount,
        maxBatch,
        fallbackWindowMs,
        onDatabaseError: options.onDatabaseError,
      });
    const { timeZone, testDayMs } = options;
    this.tpm = allowance({ kind: "tpm", unit: "minute", timeZone }, Number.MAX_SAFE_INTEGER, 60_000);
    this.day = allowance({ kind: "budget_day", unit: "day", timeZone, fixedMs: testDayMs }, Number.MAX_SAFE_INTEGER, 60_000);
    this.month = allowance(
      { kind: "budget_month", unit: "month", timeZone, fixedMs: testDayMs && testDayMs * 30 },
      Number.MAX_SAFE_INTEGER,
      60_000,
    );
  }

  /** Returns (synchronously, in the common case) when every quota of the key has room; throws the 429 naming one that has none. */
  admit(key: ApiKeyEntry): void | Promise<void> {
    const checks: Array<[Admission | Promise<Admission>, (refused: Admission) => Error]> = [];
    if (key.budgetDailyUsd !== null) {
      const limit = Math.round(key.budgetDailyUsd * MICRO);
      checks.push([
        this.day.admit(key.id, limit),
        () =>
          new InsufficientQuotaError(
            `This API key's daily budget of ${usd(limit)} is used up; it resets at the start of the next day.`,
          ),
      ]);
    }
    if (key.budgetMonthlyUsd !== null) {
      const limit = Math.round(key.budgetMonthlyUsd * MICRO);
      checks.push([
        this.month.admit(key.id, limit),
        () =>
          new InsufficientQuotaError(
            `This API key's monthly budget of ${usd(limit)} is used up; it resets at the start of the next month.`,
          ),
      ]);
    }
    if (key.tpmLimit !== null) {
      const limit = key.tpmLimit;
      checks.push([
        this.tpm.admit(key.id, limit),
        (refused) =>
          new RateLimitError(`Rate limit reached for this API key: ${limit} tokens per minute.`, refused.retryAfterSeconds),
      ]);
    }
    const judge = (admissions: Admission[]) =>
      admissions.forEach((admission, i) => {
        if (!admission.allowed) throw checks[i]![1](admission);
      });
    const admissions = checks.map(([admission]) => admission);
    if (admissions.some((admission) => admission instanceof Promise))
      return Promise.all(admissions.map((admission) => Promise.resolve(admission))).then(judge);
    judge(admissions as Admission[]);
  }

  /** A request of the key ended having used `tokens` and cost `costUsd`. */
  spent(key: ApiKeyEntry, tokens: number, costUsd: number): void {
    if (key.tpmLimit !== null && tokens > 0) this.tpm.consume(key.id, tokens);
    if (costUsd > 0) {
      if (key.budgetDailyUsd !== null) this.day.consume(key.id, costUsd * MICRO);
      if (key.budgetMonthlyUsd !== null) this.month.consume(key.id, costUsd * MICRO);
    }
  }

  prune(): void {
    for (const allowance of [this.tpm, this.day, this.month]) allowance.prune();
  }
}
