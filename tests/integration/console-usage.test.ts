// The Usage page's endpoints against a real PostgreSQL: usage written by the instances' own store
// function, read back as totals, a series with gaps, groupings, budget burn-down and CSV; budgets
// and prices set by an admin (audited); and the budget alert metric per key.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { writeUsageBatch } from "../../lib/data-plane/usage/store";
import type { UsageRow } from "../../lib/data-plane/usage/accumulator";
import { createUser } from "../../lib/control-plane/users/users";
import { exportUsage, getUsage, listPrices, setKeyBudget, setPrice } from "../../lib/control-plane/console/usage";
import { keyBudgetUse } from "../../lib/control-plane/alerts/key-budgets";
import { acquireLease } from "../../lib/platform/coordination/lease";
import { rollUpUsage } from "../../lib/control-plane/usage/rollup";
import { usageResponse } from "../../lib/control-plane/usage/contracts";
import { callConsoleHandler } from "../helpers/console-routes";
import { sessionCookie } from "../helpers/console-session";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const SAME_ORIGIN = { host: "127.0.0.1", origin: "http://127.0.0.1", "sec-fetch-site": "same-origin" };
let scratch: ScratchDatabase;
let database: Database;
const cookies = { admin: "", operator: "" };

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_console_usage_${randomBytes(3).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 4 });
  setDatabase(database);
  setConfig(parseConfig({ DATABASE_URL: scratch.url, SECRET, NODE_ENV: "test", INSTANCE_ID: "console-usage-test" }));
  const admin = await createUser(database.prisma, { email: "admin@usage.test", role: "admin", password: "admin-password-123" });
  const operator = await createUser(database.prisma, {
    email: "operator@usage.test",
    role: "operator",
    password: "operator-password-123",
  });
  cookies.admin = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
  cookies.operator = await sessionCookie({ id: operator.id, email: operator.email, role: "operator" });
});

afterAll(async () => {
  setDatabase(undefined);
  await database?.close();
  await scratch?.drop();
});

const row = (bucket: number, keyId: string, model: string, deployment: string, change: Partial<UsageRow>): UsageRow => ({
  bucket,
  keyId,
  model,
  deployment,
  endpoint: "chat",
  statusClass: "2xx",
  requests: 1,
  promptTokens: 0,
  completionTokens: 0,
  cachedTokens: 0,
  costUsd: 0,
  cacheHits: 0,
  savedUsd: 0,
  ...change,
});

describe("the Usage page's endpoints", () => {
  it("reads back what instances wrote: totals, a series with gaps, groupings, budget burn-down and CSV", async () => {
    const alpha = await createApiKey(database.prisma, { name: "alpha, the team", budgetDailyUsd: 10 });
    const beta = await createApiKey(database.prisma, { name: "beta" });
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // Two instances; alpha two minutes ago and now, beta now; nothing in between (a gap).
    await writeUsageBatch(database.pool, "i-1", {
      at: Date.now(),
      rows: [
        row(minute - 120_000, alpha.record.id, "gpt-4o", "openai/gpt-4o", {
          requests: 2,
          promptTokens: 100,
          completionTokens: 50,
          costUsd: 4,
        }),
        row(minute, alpha.record.id, "gpt-4o", "cache", { requests: 1, cacheHits: 1, savedUsd: 0.5 }),
      ],
    });
    await writeUsageBatch(database.pool, "i-2", {
      at: Date.now(),
      rows: [
        row(minute, alpha.record.id, "gpt-4o", "openai/gpt-4o", {
          requests: 1,
          promptTokens: 10,
          completionTokens: 10,
          costUsd: 4.5,
        }),
        row(minute, beta.record.id, "claude-sonnet-4", "anthropic/claude-sonnet-4", {
          requests: 3,
          promptTokens: 30,
          completionTokens: 30,
          costUsd: 1.25,
        }),
      ],
    });

    const response = await callConsoleHandler(getUsage, { cookie: cookies.operator, headers: SAME_ORIGIN, query: "?range=1h" });
    expect(response.status).toBe(200);
    const usage = usageResponse.parse(await response.json());
    expect(usage.totals).toEqual({
      requests: 7,
      promptTokens: 140,
      completionTokens: 90,
      costUsd: 9.75,
      cacheHits: 1,
      savedUsd: 0.5,
    });
    const byT = new Map(usage.series.map((p) => [p.t, p]));
    expect(byT.get(minute - 120_000)).toEqual({ t: minute - 120_000, costUsd: 4, tokens: 150, savedUsd: 0 });
    expect(byT.get(minute - 60_000)).toEqual({ t: minute - 60_000, costUsd: null, tokens: null, savedUsd: null });
    expect(byT.get(minute)).toEqual({ t: minute, costUsd: 5.75, tokens: 80, savedUsd: 0.5 });
    expect(usage.byKey.map((g) => [g.name, g.costUsd, g.requests])).toEqual([
      ["alpha, the team", 8.5, 4],
      ["beta", 1.25, 3],
    ]);
    expect(usage.byModel.map((g) => [g.name, g.costUsd])).toEqual([
      ["gpt-4o", 8.5],
      ["claude-sonnet-4", 1.25],
    ]);
    expect(usage.byProvider.map((g) => [g.name, g.costUsd, g.cacheHits])).toEqual([
      ["openai", 8.5, 0],
      ["anthropic", 1.25, 0],
      ["cache", 0, 1],
    ]);
    expect(usage.budgets).toEqual([
      {
        keyId: alpha.record.id,
        name: "alpha, the team",
        budgetDailyUsd: 10,
        budgetMonthlyUsd: null,
        tpmLimit: null,
        spentTodayUsd: expect.any(Number),
        spentThisMonthUsd: expect.any(Number),
      },
    ]);
    // All of it is today unless the test runs across midnight UTC.
    if (new Date(minute - 120_000).getUTCDate() === new Date().getUTCDate()) expect(usage.budgets[0]!.spentTodayUsd).toBe(8.5);

    // The alert metric: 85% of alpha's daily budget; beta has none.
    expect(await keyBudgetUse(database.pool, "UTC")).toEqual(new Map([["key:alpha, the team", expect.closeTo(85, 6)]]));

    const csv = await callConsoleHandler(exportUsage, { cookie: cookies.operator, headers: SAME_ORIGIN, query: "?range=1h" });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toMatch(/^attachment; filename="agenticorp-usage-1h-.*\.csv"$/);
    const lines = (await csv.text()).trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "bucket_start,key_id,key_name,model,deployment,endpoint,status_class,requests,prompt_tokens,completion_tokens,cached_tokens,cost_usd,cache_hits,saved_usd",
    );
    expect(lines).toHaveLength(1 + 4);
    expect(lines).toContain(
      `${new Date(minute - 120_000).toISOString()},${alpha.record.id},"alpha, the team",gpt-4o,openai/gpt-4o,chat,2xx,2,100,50,0,4.000000000,0,0.000000000`,
    );

    // The leader's rollup makes 10 min rows with the same sums.
    expect(await rollUpUsage(database.pool, await leaderFence())).toBe(4);
    const { rows } = await database.pool.query<{ cost: number; requests: string }>(
      "SELECT sum(cost_usd) AS cost, sum(requests) AS requests FROM usage_buckets WHERE resolution = 600",
    );
    expect(rows[0]).toEqual({ cost: 9.75, requests: "7" });
  });

  it("lets an admin set a key's budget and a model's price, audited; an operator may not", async () => {
    const key = await createApiKey(database.prisma, { name: "to budget" });
    const body = { budgetDailyUsd: 3, budgetMonthlyUsd: 50, tpmLimit: 1000 };
    expect(
      (
        await callConsoleHandler(setKeyBudget, {
          method: "PUT",
          cookie: cookies.operator,
          headers: SAME_ORIGIN,
          params: { id: key.record.id },
          body,
        })
      ).status,
    ).toBe(403);
    const set = await callConsoleHandler(setKeyBudget, {
      method: "PUT",
      cookie: cookies.admin,
      headers: SAME_ORIGIN,
      params: { id: key.record.id },
      body,
    });
    expect(set.status).toBe(200);
    expect((await set.json()).record).toMatchObject(body);
    const audit = await database.prisma.auditEntry.findFirstOrThrow({ where: { action: "key.budget", targetId: key.record.id } });
    expect(audit.after).toMatchObject(body);

    const bad = await callConsoleHandler(setPrice, {
      method: "PUT",
      cookie: cookies.admin,
      headers: SAME_ORIGIN,
      params: { id: "my-model" },
      body: { inputPerMillion: -1, outputPerMillion: 1 },
    });
    expect(bad.status).toBe(400);
    const priced = await callConsoleHandler(setPrice, {
      method: "PUT",
      cookie: cookies.admin,
      headers: SAME_ORIGIN,
      params: { id: "gpt-4o" },
      body: { inputPerMillion: 2, outputPerMillion: 9 },
    });
    expect(priced.status).toBe(200);
    const listed = await (await callConsoleHandler(listPrices, { cookie: cookies.operator, headers: SAME_ORIGIN })).json();
    expect(listed.prices.find((p: { model: string }) => p.model === "gpt-4o")).toEqual({
      model: "gpt-4o",
      source: "console",
      inputPerMillion: 2,
      outputPerMillion: 9,
      cachedInputPerMillion: null,
    });
    expect(listed.prices.find((p: { model: string }) => p.model === "sim-fast")).toMatchObject({ source: "default" });
    expect(await database.prisma.auditEntry.count({ where: { action: "price.set", targetId: "gpt-4o" } })).toBe(1);
  });
});

async function leaderFence() {
  const lease = await acquireLease(database.pool, "leader", { holder: "usage-test", ttlMs: 60_000 });
  return lease!;
}
