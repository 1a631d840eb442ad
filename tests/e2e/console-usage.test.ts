// The Usage page end to end in Chromium against a real server and its own database: traffic sent
// through the gateway shows as spend (at the simulator's default price), tokens and the top key;
// an operator reads and downloads the CSV but sees no controls; an admin sets a key's budget and a
// model's price from the page, both audited; the overview shows spend per hour and tokens per second.
import { randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { createUser } from "../../lib/control-plane/users/users";
import { formatUsd } from "../../lib/control-plane/usage/charts";
import { launchChromium, signIn } from "../helpers/console-browser";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const ADMIN = { email: "admin@usage.test", password: "admin-password-123" };
const OPERATOR = { email: "operator@usage.test", password: "operator-password-123" };

let scratch: ScratchDatabase;
let database: Database;
let server: ServerProcess;
let browser: Browser;
let keyId: string;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_usage_e2e_${Date.now()}_${randomBytes(3).toString("hex")}`, {
    migrate: true,
  });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  await createUser(database.prisma, { ...OPERATOR, role: "operator" });
  await createProvider(
    database.prisma,
    { kind: "simulator", name: "sim", deployments: [{ modelName: "sim-usage", upstreamModel: "sim-fast" }] },
    SECRET,
  );
  const created = await createApiKey(database.prisma, { name: "team-a" });
  keyId = created.record.id;
  server = await startServer({ env: { DATABASE_URL: scratch.url, SECRET, DRAIN_TIMEOUT_MS: "3000", USAGE_FLUSH_MS: "200" } });
  for (let i = 0; i < 60; i++) {
    const models = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${created.key}` } });
    if (models.ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < 5; i++) {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${created.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "sim-usage", messages: [{ role: "user", content: `hello number ${i}` }] }),
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.close();
  await scratch?.drop();
});

async function spentInDatabase(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const { rows } = await database.pool.query<{ requests: string | null; cost: number | null }>(
      "SELECT sum(requests) AS requests, sum(cost_usd) AS cost FROM usage_buckets WHERE key_id = $1",
      [keyId],
    );
    if (Number(rows[0]!.requests) === 5) return rows[0]!.cost!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the usage was never flushed");
}

async function openUsage(page: Page) {
  await page.goto(`${server.url}/usage`, { waitUntil: "load" });
  await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
}

describe("the Usage page", () => {
  it("shows an operator the spend, tokens and top key of real traffic, the prices and the CSV, without controls", async () => {
    const spent = await spentInDatabase();
    expect(spent).toBeGreaterThan(0);
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, server.url, OPERATOR.email, OPERATOR.password);
    await page.getByRole("link", { name: "Usage" }).click();
    await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
    await expect.poll(() => page.getByTestId("usage-spend").textContent(), { timeout: 10_000 }).toBe(formatUsd(spent));
    expect(await page.getByTestId("usage-requests").textContent()).toBe("5");
    await page.getByRole("table", { name: "Usage by key" }).getByRole("cell", { name: "team-a" }).waitFor();
    await page.getByRole("figure", { name: "Spend over time" }).waitFor();
    const simPrice = page.getByTestId("price-row").filter({ hasText: "sim-fast" });
    expect(await simPrice.textContent()).toContain("default");
    expect(await page.getByRole("form", { name: "Set a model's price" }).count()).toBe(0);
    expect(await page.getByRole("form", { name: "Set a key's budget" }).count()).toBe(0);

    const csv = await page.request.get(`${server.url}${await page.getByTestId("usage-export").getAttribute("href")}`);
    expect(csv.status()).toBe(200);
    const text = await csv.text();
    expect(text.split("\r\n")[0]).toMatch(/^bucket_start,key_id,key_name,model,/);
    expect(text).toContain(`,${keyId},team-a,sim-usage,sim/sim-fast,chat,2xx,`);

    await page.goto(`${server.url}/`, { waitUntil: "load" });
    await page.getByRole("heading", { name: "Spend per hour" }).waitFor();
    await page.getByRole("heading", { name: "Tokens per second" }).waitFor();
    await context.close();
  });

  it("lets an admin set a key's budget and a model's price from the page, both audited", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, server.url, ADMIN.email, ADMIN.password);
    await openUsage(page);
    const budget = page.getByRole("form", { name: "Set a key's budget" });
    await budget
      .getByLabel("Key")
      .selectOption({ label: `team-a (${(await database.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } })).prefix}…)` });
    await budget.getByLabel("USD per day (empty: none)").fill("5");
    await budget.getByRole("button", { name: "Save budget" }).click();
    await page.getByTestId("budget-row").filter({ hasText: "team-a" }).waitFor();
    expect(await page.getByTestId("budget-row").filter({ hasText: "team-a" }).textContent()).toContain("of $5.00");
    expect((await database.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } })).budgetDailyUsd).toBe(5);

    const price = page.getByRole("form", { name: "Set a model's price" });
    await price.getByLabel("Model (public or upstream name)").fill("sim-usage");
    await price.getByLabel("Input", { exact: true }).fill("3");
    await price.getByLabel("Output", { exact: true }).fill("4");
    await price.getByRole("button", { name: "Set price" }).click();
    await page.getByTestId("price-row").filter({ hasText: "sim-usage" }).filter({ hasText: "console" }).waitFor();

    const actions = (
      await database.prisma.auditEntry.findMany({
        where: { action: { in: ["key.budget", "price.set"] } },
        select: { action: true, actorEmail: true },
      })
    ).map((a) => `${a.action} ${a.actorEmail}`);
    expect(actions.sort()).toEqual([`key.budget ${ADMIN.email}`, `price.set ${ADMIN.email}`]);
    await context.close();
  });
});
