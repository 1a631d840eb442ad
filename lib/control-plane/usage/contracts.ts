// The Usage page's requests and responses: one zod schema each, types inferred. Client-safe.
import { z } from "zod";
import { modelPrice } from "../../data-plane/usage/prices";

export const USAGE_RANGES = ["1h", "24h", "7d", "30d"] as const;
export type UsageRange = (typeof USAGE_RANGES)[number];

export const usageQuery = z.object({ range: z.enum(USAGE_RANGES).default("24h") });
export type UsageQuery = z.infer<typeof usageQuery>;

const usageTotalsSchema = z.object({
  requests: z.number(),
  promptTokens: z.number(),
  completionTokens: z.number(),
  costUsd: z.number(),
  cacheHits: z.number(),
  savedUsd: z.number(),
});
export type UsageTotals = z.infer<typeof usageTotalsSchema>;

/** One step of the range: null where no instance recorded anything (a gap, not a zero). */
const usagePointSchema = z.object({
  t: z.number(),
  costUsd: z.number().nullable(),
  tokens: z.number().nullable(),
  savedUsd: z.number().nullable(),
});
export type UsagePoint = z.infer<typeof usagePointSchema>;

const usageGroupSchema = usageTotalsSchema.extend({ name: z.string(), id: z.string() });
export type UsageGroup = z.infer<typeof usageGroupSchema>;

const budgetBurnSchema = z.object({
  keyId: z.string(),
  name: z.string(),
  budgetDailyUsd: z.number().nullable(),
  budgetMonthlyUsd: z.number().nullable(),
  tpmLimit: z.number().nullable(),
  spentTodayUsd: z.number(),
  spentThisMonthUsd: z.number(),
});
export type BudgetBurn = z.infer<typeof budgetBurnSchema>;

export const usageResponse = z.object({
  range: z.enum(USAGE_RANGES),
  start: z.number(),
  end: z.number(),
  stepSeconds: z.number(),
  timeZone: z.string(),
  totals: usageTotalsSchema,
  series: z.array(usagePointSchema),
  byKey: z.array(usageGroupSchema),
  byModel: z.array(usageGroupSchema),
  byProvider: z.array(usageGroupSchema),
  budgets: z.array(budgetBurnSchema),
});
export type UsageResponse = z.infer<typeof usageResponse>;

// ---- prices -------------------------------------------------------------------------------
const PRICE_SOURCES = ["default", "file", "console"] as const;
const priceEntrySchema = modelPrice.extend({ model: z.string(), source: z.enum(PRICE_SOURCES) });
export type PriceEntry = z.infer<typeof priceEntrySchema>;
export const pricesResponse = z.object({ prices: z.array(priceEntrySchema) });
/** A price's id is its model name. */
export const priceParams = z.object({ id: z.string().trim().min(1).max(200) });
export const setPriceInput = modelPrice;
export type SetPriceInput = z.input<typeof setPriceInput>;

// ---- budgets ------------------------------------------------------------------------------
export const setBudgetInput = z.object({
  budgetDailyUsd: z.number().positive().max(1_000_000_000).nullable(),
  budgetMonthlyUsd: z.number().positive().max(1_000_000_000).nullable(),
  tpmLimit: z.number().int().positive().max(1_000_000_000).nullable(),
});
export type SetBudgetInput = z.infer<typeof setBudgetInput>;
