// The console end to end, in Chromium, through the real sign-in form, against a real server with
// its own database and real traffic sent by the test:
//  - the overview's charts are drawn and its request count matches the traffic sent;
//  - an operator sees no admin control and gets 403 from every admin route handler;
//  - an admin creates a key, uses it, revokes it, the gateway refuses it (401), the audit log
//    shows both changes;
//  - a screenshot of every page lands in test-results/.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasScope } from "../../lib/control-plane/auth/permissions";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { loadConsoleRoutes } from "../helpers/console-routes";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SHOTS = path.join(PROJECT_ROOT, "test-results");
const ADMIN = { email: "admin@example.test", password: "admin-password-123" };
const OPERATOR = { email: "operator@example.test", password: "operator-password-123" };
const TRAFFIC = 48;

let scratch: ScratchDatabase;
let database: Database;
let server: ServerProcess;
let browser: Browser;
let trafficKey: string;

beforeAll(async () => {
  // A database of its own: the overview adds up every instance that ever wrote to it.
  scratch = await createScratchDatabase(`agenticorp_console_e2e_${Date.now()}_${randomBytes(3).toString("hex")}`, {
    migrate: true,
  });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  await createUser(database.prisma, { ...OPERATOR, role: "operator" });
  trafficKey = (await createApiKey(database.prisma, { name: "traffic" })).key;
  server = await startServer({
    env: { DATABASE_URL: scratch.url, DRAIN_TIMEOUT_MS: "3000", SEED_SIMULATOR: "true", SNAPSHOT_INTERVAL_MS: "2000" },
  });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.close();
  await scratch?.drop();
});

async function signedIn(who: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await signIn(page, server.url, who.email, who.password);
  return { context, page };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function complete(key: string): Promise<number> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "sim-fast", messages: [{ role: "user", content: `hello ${randomBytes(4).toString("hex")}` }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("the overview", () => {
  it("draws the traffic the test sends, with matching numbers", async () => {
    const statuses = [];
    for (let i = 0; i < TRAFFIC; i++) statuses.push(await complete(trafficKey));
    expect(statuses.every((s) => s === 200)).toBe(true);

    const { context, page } = await signedIn(OPERATOR);
    try {
      const source = await until("the data source shown", 20_000, async () => {
        const text = await page.getByTestId("data-source").textContent();
        return text?.includes("…") ? undefined : text;
      });
      expect(source).toBe("Data source: built-in (PostgreSQL)");
      // Snapshots reach PostgreSQL every 2 s here; the page refreshes itself every 10 s.
      const shown = await until("the overview counting the requests sent", 60_000, async () => {
        const text = (await page.getByTestId("stat-requests").textContent())?.replace(/[^\d]/g, "");
        const value = text ? Number(text) : 0;
        return value >= TRAFFIC ? value : undefined;
      });
      expect(shown).toBe(TRAFFIC);

      for (const chart of ["chart-rps", "chart-rps-endpoint", "chart-rps-instance", "chart-latency"]) {
        const panel = page.getByTestId(chart);
        await expect(panel.getAttribute("data-state")).resolves.toBe("ready");
        // Something visible per chart: a line segment (an L in a curve's outline) or a lone sample's dot.
        const outlines = await panel
          .locator("path.recharts-line-curve")
          .evaluateAll((paths) => paths.map((p) => p.getAttribute("d") ?? ""));
        const segments = outlines.filter((d) => /L/.test(d)).length;
        const dots = await panel.locator("circle.isolated-point").count();
        expect(segments + dots, chart).toBeGreaterThan(0);
      }
      await expect(
        page.getByTestId("chart-rps-instance").locator(".recharts-legend-item-text, .recharts-line").count(),
      ).resolves.toBeGreaterThan(0);
      await expect(page.getByTestId("stat-p95").textContent()).resolves.toMatch(/ms$/);
      await expect(page.getByTestId("stat-errors-5xx").textContent()).resolves.toBe("0.00%");
      await expect(page.getByTestId("stat-errors-4xx").textContent()).resolves.toBe("0.00%");
      await expect(page.getByTestId("stat-instances").textContent()).resolves.toBe("1 / 1");

      // The same numbers through the API the page uses: the rate series add up to what was sent.
      const api = await page.request.get(`${server.url}/api/console/overview?range=15m`);
      const overview = await api.json();
      const total = overview.requestRate.series.find((s: { name: string }) => s.name === "total");
      const all = total.points as Array<{ t: number; v: number | null }>;
      const step = all.length > 1 ? all[1]!.t - all[0]!.t : overview.stepSeconds * 1000;
      // The newest step is partial: its rate is over the part of it up to the window's end.
      const counted = all.reduce((sum, p) => sum + ((p.v ?? 0) * Math.min(step, overview.end - p.t)) / 1000, 0);
      expect(Math.abs(counted - TRAFFIC)).toBeLessThanOrEqual(0.5);
      expect(overview.summary.range.requests).toBe(TRAFFIC);

      await page.screenshot({ path: path.join(SHOTS, "console-overview-traffic.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });
});

describe("an operator", () => {
  it("sees no admin control on any page", async () => {
    const { context, page } = await signedIn(OPERATOR);
    try {
      await expect(page.getByTestId("signed-in-role").textContent()).resolves.toBe("operator");
      const nav = page.getByRole("navigation", { name: "Console" });
      await expect(nav.getByRole("link", { name: "Users" }).count()).resolves.toBe(0);
      await expect(nav.getByRole("link", { name: "API keys" }).count()).resolves.toBe(1);

      await page.goto(`${server.url}/keys`);
      await page.getByRole("table", { name: "API keys" }).waitFor();
      await expect(page.getByRole("form", { name: "Create an API key" }).count()).resolves.toBe(0);
      await expect(page.getByRole("button", { name: /revoke/i }).count()).resolves.toBe(0);

      await page.goto(`${server.url}/providers`);
      await page.getByRole("table", { name: "Deployments of simulator-fast" }).waitFor();
      await expect(page.getByRole("form", { name: "Add a provider" }).count()).resolves.toBe(0);
      await expect(page.getByRole("button", { name: /test connection|edit/i }).count()).resolves.toBe(0);

      await page.goto(`${server.url}/alerts`);
      await page.getByRole("table", { name: "Alert rules" }).waitFor();
      await expect(page.getByRole("form", { name: /^Edit / }).count()).resolves.toBe(0);

      await page.goto(`${server.url}/users`);
      await expect(page.locator('.state-error[role="alert"]').textContent()).resolves.toMatch(/cannot open this page/);
      await page.screenshot({ path: path.join(SHOTS, "console-users-as-operator.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it("gets 403 from every admin route handler, and is let in by every other", async () => {
    const routes = await loadConsoleRoutes();
    const adminOnly = routes.filter((r) => !hasScope("operator", r.handler.scope));
    expect(adminOnly.length).toBeGreaterThanOrEqual(9);
    const { context, page } = await signedIn(OPERATOR);
    try {
      for (const r of routes) {
        const url = server.url + r.route.replace("[id]", "00000000-0000-4000-8000-000000000000");
        const response = await page.request.fetch(url, {
          method: r.method,
          headers: { "content-type": "application/json" },
          data: r.method === "GET" ? undefined : {},
        });
        if (adminOnly.includes(r)) expect(response.status(), `${r.method} ${r.route}`).toBe(403);
        else expect([401, 403, 500], `${r.method} ${r.route}`).not.toContain(response.status());
      }
      // And anonymous callers get 401 from all of them.
      for (const r of routes) {
        const response = await fetch(server.url + r.route.replace("[id]", "00000000-0000-4000-8000-000000000000"), {
          method: r.method,
          headers: { "content-type": "application/json" },
          body: r.method === "GET" ? undefined : "{}",
        });
        expect(response.status, `anonymous ${r.method} ${r.route}`).toBe(401);
      }
    } finally {
      await context.close();
    }
  });
});

describe("an admin", () => {
  it("creates a key, sees it work, revokes it, the gateway refuses it, and the audit log shows both", async () => {
    const { context, page } = await signedIn(ADMIN);
    try {
      const name = `e2e-${randomBytes(3).toString("hex")}`;
      await page.goto(`${server.url}/keys`);
      const form = page.getByRole("form", { name: "Create an API key" });
      await form.getByLabel("Name").fill(name);
      await form.getByRole("button", { name: "Create key" }).click();
      const key = (await page.getByTestId("new-key-value").textContent())!.trim();
      expect(key).toMatch(/^ak-/);
      await expect(page.getByRole("button", { name: "Copy key" }).count()).resolves.toBe(1);
      await page.screenshot({ path: path.join(SHOTS, "console-keys-created.png"), fullPage: true });

      const models = async () => (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;
      await until("the new key working", 10_000, async () => ((await models()) === 200 ? true : undefined));

      const row = page.locator(`tr[data-key-name="${name}"]`);
      await row.getByRole("button", { name: `Revoke ${name}` }).click();
      await row.getByRole("button", { name: `Confirm revoking ${name}` }).click();
      await until("the row showing the key revoked", 10_000, async () =>
        (await row.getByTestId("key-status").textContent()) === "revoked" ? true : undefined,
      );
      await until("the gateway refusing the revoked key", 10_000, async () => ((await models()) === 401 ? true : undefined));
      expect(await models()).toBe(401);

      // The key's value shown once: after a reload it is nowhere on the page.
      await page.reload();
      await page.getByRole("table", { name: "API keys" }).waitFor();
      expect(await page.content()).not.toContain(key);

      const keyId = await row.getAttribute("data-key-id");
      await page.goto(`${server.url}/audit`);
      const table = page.getByRole("table", { name: "Audit log" });
      await table.waitFor();
      const created = table.locator(`tr[data-audit-action="key.create"][data-audit-target="${keyId}"]`);
      const revoked = table.locator(`tr[data-audit-action="key.revoke"][data-audit-target="${keyId}"]`);
      await expect(created.count()).resolves.toBe(1);
      await expect(revoked.count()).resolves.toBe(1);
      await expect(created.locator("td").nth(1).textContent()).resolves.toBe(ADMIN.email);
      await expect(revoked.locator("td").nth(1).textContent()).resolves.toBe(ADMIN.email);

      await page.getByLabel("Action").selectOption("key.revoke");
      await until("the filter applying", 10_000, async () =>
        (await table.locator("tbody tr").count()) === (await table.locator('tbody tr[data-audit-action="key.revoke"]').count())
          ? true
          : undefined,
      );
      await expect(table.locator('tbody tr[data-audit-action="key.create"]').count()).resolves.toBe(0);
      await page.screenshot({ path: path.join(SHOTS, "console-audit.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it("opens every page, each with its content and no error, and a screenshot of each", async () => {
    const { context, page } = await signedIn(ADMIN);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    try {
      const pages: Array<[string, string, () => Promise<void>]> = [
        ["/", "overview", () => page.locator('[data-testid="chart-rps"][data-state="ready"]').waitFor()],
        ["/instances", "instances", () => page.locator(`tr[data-instance-id="${server.instanceId}"]`).waitFor()],
        ["/alerts", "alerts", () => page.getByRole("table", { name: "Alert rules" }).waitFor()],
        ["/keys", "keys", () => page.getByRole("table", { name: "API keys" }).waitFor()],
        ["/providers", "providers", () => page.getByRole("table", { name: "Deployments of simulator-fast" }).waitFor()],
        ["/users", "users", () => page.getByRole("table", { name: "Users" }).waitFor()],
        ["/audit", "audit", () => page.getByRole("table", { name: "Audit log" }).waitFor()],
        ["/scaling", "scaling", () => page.getByRole("heading", { name: "Scaling" }).waitFor()],
        ["/capacity", "capacity", () => page.getByRole("heading", { name: "Capacity" }).waitFor()],
        ["/usage", "usage", () => page.getByRole("table", { name: "Prices" }).waitFor()],
      ];
      for (const [route, name, ready] of pages) {
        await page.goto(server.url + route);
        await ready();
        await expect(page.locator('[data-state="error"]').count(), route).resolves.toBe(0);
        await page.screenshot({ path: path.join(SHOTS, `console-${name}.png`), fullPage: true });
      }
      // A tablet: the navigation moves above the content and every page still renders.
      await page.setViewportSize({ width: 800, height: 1100 });
      await page.goto(server.url + "/");
      await page.locator('[data-testid="chart-rps"][data-state="ready"]').waitFor();
      await page.screenshot({ path: path.join(SHOTS, "console-overview-tablet.png"), fullPage: true });
      const login = await browser.newPage();
      await login.goto(`${server.url}/login`);
      await login.screenshot({ path: path.join(SHOTS, "console-login.png") });
      await login.close();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("changes an alert threshold from the alerts page, audited", async () => {
    const { context, page } = await signedIn(ADMIN);
    try {
      await page.goto(`${server.url}/alerts`);
      // The CPU rule's own form: firing alerts are listed first, whichever they are.
      const form = page.locator('tr[data-rule-id="cpu_high"]').getByRole("form");
      await form.waitFor();
      await form.getByLabel("Threshold").fill("97");
      await form.getByRole("button", { name: "Save" }).click();
      await form.getByRole("status").waitFor();
      const entry = await database.prisma.auditEntry.findFirst({
        where: { action: "alert_rule.update" },
        orderBy: { id: "desc" },
      });
      expect(entry?.actorEmail).toBe(ADMIN.email);
      expect((entry?.after as { threshold: number }).threshold).toBe(97);
    } finally {
      await context.close();
    }
  });

  it("signs out, after which the console sends them to the sign-in page", async () => {
    const { context, page } = await signedIn(ADMIN);
    try {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL(`${server.url}/login`);
      const response = await page.request.get(`${server.url}/api/console/keys`);
      expect(response.status()).toBe(401);
      await page.goto(server.url + "/keys");
      expect(new URL(page.url()).pathname).toBe("/login");
    } finally {
      await context.close();
    }
  });
});

describe("sign-in", () => {
  it("shows a wrong password as such, and refuses further tries after five failures", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const email = `locked-${randomBytes(3).toString("hex")}@example.test`;
      await createUser(database.prisma, { email, role: "operator", password: "the-right-password" });
      const form = page.locator('form[aria-label="Sign in"]');
      const message = form.locator('[role="alert"]');
      let answers = 0;
      /** Submits and waits for this attempt's own answer (the form counts them). */
      const attempt = async (password: string) => {
        await page.getByLabel("Password").fill(password);
        await page.getByRole("button", { name: "Sign in", exact: true }).click();
        answers++;
        await until("the form's answer", 10_000, async () =>
          (await form.getAttribute("data-answers")) === String(answers) ? true : undefined,
        );
        return message.textContent();
      };
      await page.goto(`${server.url}/login`);
      await page.getByLabel("Email").fill(email);
      for (let i = 0; i < 5; i++) expect(await attempt(`wrong-${i}-password`)).toBe("Incorrect email or password.");
      expect(await attempt("the-right-password")).toMatch(
        /^Too many failed sign-in attempts for this email\. Try again in 1[45] minutes\.$/,
      );
      expect(new URL(page.url()).pathname).toBe("/login");
    } finally {
      await context.close();
    }
  });
});
