// The Usage page's endpoints: spend and tokens over time and by key, model and provider, budget
// burn-down, the CSV export; admins set budgets and prices (audited, in the change's transaction).
// Prices and budgets reach every instance through the fleet configuration within about a second.
import { getConfig } from "../../platform/config";
import { getDatabase } from "../../platform/db/client";
import { NotFoundError } from "../../platform/errors";
import { recordAudit } from "../audit/audit";
import { apiKeyColumns } from "../keys/api-keys";
import { DEFAULT_PRICES, type ModelPrice } from "../../data-plane/usage/prices";
import { readPriceFile } from "../../data-plane/usage/price-file";
import { idParams } from "./contracts";
import { actorOf, consoleHandler } from "./handler";
import { priceParams, setBudgetInput, setPriceInput, usageQuery, type PriceEntry, type UsageResponse } from "../usage/contracts";
import { budgetBurnDown, usageBy, usageExportRows, usageOverTime, usageTotals, usageWindowFor } from "../usage/queries";
import { usageCsv } from "../usage/csv";

// GET /api/console/usage?range= — totals, the series, top keys, models and providers, budget burn-down.
export const getUsage = consoleHandler({ scope: "usage.read", query: usageQuery }, async ({ query }): Promise<UsageResponse> => {
  const db = getDatabase().pool;
  const window = usageWindowFor(query.range, Date.now());
  const timeZone = getConfig().USAGE_TIME_ZONE;
  const [totals, series, byKey, byModel, byProvider, budgets] = await Promise.all([
    usageTotals(db, window),
    usageOverTime(db, window),
    usageBy(db, window, "key"),
    usageBy(db, window, "model"),
    usageBy(db, window, "provider"),
    budgetBurnDown(db, timeZone),
  ]);
  return {
    range: query.range,
    start: window.start.getTime(),
    end: window.end.getTime(),
    stepSeconds: window.stepSeconds,
    timeZone,
    totals,
    series,
    byKey,
    byModel,
    byProvider,
    budgets,
  };
});

// GET /api/console/usage/export?range= — the range's rows as CSV (per minute, or per 10 min beyond a day).
export const exportUsage = consoleHandler({ scope: "usage.read", query: usageQuery }, async ({ query }) => {
  const window = usageWindowFor(query.range, Date.now());
  const csv = usageCsv(await usageExportRows(getDatabase().pool, window));
  return new Response(csv, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="agenticorp-usage-${query.range}-${window.end.toISOString().slice(0, 16).replace(":", "")}.csv"`,
      "cache-control": "no-store",
    },
  });
});

// PUT /api/console/keys/:id/budget — a key's daily and monthly budgets and token limit (null: none).
export const setKeyBudget = consoleHandler(
  { scope: "budgets.write", params: idParams, body: setBudgetInput },
  async ({ prisma, params, body, session }) => {
    const record = await prisma.$transaction(async (tx) => {
      const before = await tx.apiKey.findUnique({ where: { id: params.id }, select: apiKeyColumns });
      if (!before || before.revokedAt) throw new NotFoundError("No active API key with this id.");
      const after = await tx.apiKey.update({ where: { id: params.id }, data: body, select: apiKeyColumns });
      await recordAudit(tx, actorOf(session), { action: "key.budget", targetType: "api_key", targetId: after.id, before, after });
      return after;
    });
    return {
      record: { ...record, createdAt: record.createdAt.toISOString(), revokedAt: record.revokedAt?.toISOString() ?? null },
    };
  },
);

/** Every price in force and where it comes from: the console's rows over the file over the defaults. */
async function pricesInForce(): Promise<PriceEntry[]> {
  const rows = await getDatabase().prisma.modelPrice.findMany({ orderBy: { model: "asc" } });
  const merged = new Map<string, PriceEntry>();
  const layer = (source: PriceEntry["source"], prices: Record<string, ModelPrice>) => {
    for (const [model, price] of Object.entries(prices)) merged.set(model, { model, source, ...price });
  };
  layer("default", DEFAULT_PRICES);
  layer("file", readPriceFile(getConfig().PRICES_FILE));
  for (const row of rows)
    merged.set(row.model, {
      model: row.model,
      source: "console",
      inputPerMillion: row.inputPerMillion,
      outputPerMillion: row.outputPerMillion,
      cachedInputPerMillion: row.cachedInputPerMillion,
    });
  return [...merged.values()].sort((a, b) => a.model.localeCompare(b.model));
}

// GET /api/console/prices — the price table in force, with each entry's source.
export const listPrices = consoleHandler({ scope: "usage.read" }, async () => ({ prices: await pricesInForce() }));

// PUT /api/console/prices/:id (a model name) — sets a model's price (a public model name, or an upstream model and its dated variants).
export const setPrice = consoleHandler(
  { scope: "prices.write", params: priceParams, body: setPriceInput },
  async ({ prisma, params, body, session }) => {
    await prisma.$transaction(async (tx) => {
      const before = await tx.modelPrice.findUnique({ where: { model: params.id } });
      const after = await tx.modelPrice.upsert({
        where: { model: params.id },
        create: { model: params.id, ...body },
        update: body,
      });
      await recordAudit(tx, actorOf(session), {
        action: "price.set",
        targetType: "model_price",
        targetId: params.id,
        before,
        after,
      });
    });
    return { prices: await pricesInForce() };
  },
);

// DELETE /api/console/prices/:id (a model name) — removes the console's price: the file's or the default applies again.
export const deletePrice = consoleHandler({ scope: "prices.write", params: priceParams }, async ({ prisma, params, session }) => {
  await prisma.$transaction(async (tx) => {
    const before = await tx.modelPrice.findUnique({ where: { model: params.id } });
    if (!before) throw new NotFoundError("The console sets no price for this model.");
    await tx.modelPrice.delete({ where: { model: params.id } });
    await recordAudit(tx, actorOf(session), { action: "price.delete", targetType: "model_price", targetId: params.id, before });
  });
  return { prices: await pricesInForce() };
});
