// Admins act and operators see failure, end to end in Chromium against a real server, its own
// database and a failing upstream (the OpenAI stand-in answering 500):
//  - the providers page shows the failing deployment's open circuit as the card's colour, its
//    error rate, the requests its circuit refused and its last failure;
//  - disabling a user asks first (Cancel changes nothing); a password reset is shown once;
//  - keys show their last use and flag an allowed model nothing serves;
//  - at phone width the menu is scrolled to the current page.
// Screenshots of the providers, keys and users pages at desktop and phone width go to docs/screenshots/.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyPassword } from "../../lib/control-plane/auth/passwords";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { createUser, findUserForLogin } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SHOTS = path.join(PROJECT_ROOT, "docs", "screenshots");
const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const ADMIN = { email: "admin@example.test", password: "admin-password-123" };
const TARGET = { email: "target@example.test", password: "target-password-123" };
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let scratch: ScratchDatabase;
let database: Database;
let upstream: OpenAIStandIn;
let server: ServerProcess;
let browser: Browser;
let key: string;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_admin_e2e_${Date.now()}_${randomBytes(3).toString("hex")}`, {
    migrate: true,
  });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  await createUser(database.prisma, { ...TARGET, role: "operator" });
  upstream = await startOpenAIStandIn({ apiKey: "key-good" });
  upstream.setBehaviour({ failAll: 500 });
  await createProvider(
    database.prisma,
    {
      kind: "openai_compatible",
      name: "failing-upstream",
      baseUrl: upstream.url,
      apiKey: "key-good",
      settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 } },
      deployments: [{ modelName: "broken-model", upstreamModel: "gpt-4o" }],
    },
    SECRET,
  );
  await createProvider(
    database.prisma,
    { kind: "simulator", name: "healthy-sim", deployments: [{ modelName: "sim-model", upstreamModel: "sim" }] },
    SECRET,
  );
  key = (await createApiKey(database.prisma, { name: "with-a-typo", allowedModels: ["broken-model", "gpt-4o-typo"] })).key;
  server = await startServer({
    env: {
      DATABASE_URL: scratch.url,
      SECRET,
      DRAIN_TIMEOUT_MS: "3000",
      HEARTBEAT_MS: "500",
      ROUTER_MAX_ATTEMPTS: "1",
      CIRCUIT_FAILURE_THRESHOLD: "2",
      CIRCUIT_COOLDOWN_MS: "600000",
    },
  });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await upstream?.close();
  await database?.close();
  await scratch?.drop();
});

async function signedIn(viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await signIn(page, server.url, ADMIN.email, ADMIN.password);
  return { context, page };
}

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The page again as a phone opens it (the menu scrolled to it), once `ready` shows. */
async function shootAtPhoneWidth(page: Page, name: string, ready: string) {
  await page.setViewportSize(PHONE);
  await page.reload();
  await page.locator(ready).first().waitFor();
  await shoot(page, name);
}

describe("provider health", () => {
  it("shows the failing deployment's open circuit as the card's colour, its error rate, refusals and last failure", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "broken-model", messages: [{ role: "user", content: "hi" }] }),
      });
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toEqual([502, 502, 503, 503, 503, 503, 503]);

    const { context, page } = await signedIn();
    try {
      await page.goto(`${server.url}/providers`);
      const card = page.getByTestId("provider-failing-upstream");
      // The heartbeat carries the report every 500 ms; the page refetches every 10 s.
      await card.locator('[data-testid="refused"]', { hasText: /^5$/ }).waitFor({ timeout: 30_000 });
      await expect(card.getAttribute("class")).resolves.toContain("provider-open");
      await expect(card.getByTestId("provider-state").textContent()).resolves.toBe("failing: circuit open");
      await expect(card.getByTestId("circuit").textContent()).resolves.toBe("open on 1 instance");
      await expect(card.getByTestId("error-rate").textContent()).resolves.toBe("100.0% (2)");
      await expect(card.getByTestId("last-failure").textContent()).resolves.toMatch(/^upstream error \(5xx\) · HTTP 500 · /);
      // A healthy provider's card is not coloured as failing.
      await expect(page.getByTestId("provider-healthy-sim").getAttribute("class")).resolves.toContain("provider-closed");
      await shoot(page, "providers-desktop");
      await shootAtPhoneWidth(page, "providers-phone", '[data-testid="provider-failing-upstream"] [data-testid="refused"]');
    } finally {
      await context.close();
    }
  }, 90_000);
});

describe("users", () => {
  it("asks before disabling a user (Cancel changes nothing), and shows a reset password once", async () => {
    const { context, page } = await signedIn();
    try {
      await page.goto(`${server.url}/users`);
      const row = page.locator(`tr[data-user-email="${TARGET.email}"]`);
      const dialog = page.getByRole("dialog", { name: `Disable ${TARGET.email}?` });

      await row.getByRole("button", { name: `Disable ${TARGET.email}` }).click();
      await dialog.waitFor();
      await shoot(page, "users-confirm-disable-desktop");
      await dialog.getByRole("button", { name: "Cancel" }).click();
      await dialog.waitFor({ state: "hidden" });
      await expect(row.locator("td", { hasText: /^active$/ }).count()).resolves.toBe(1);
      expect((await database.prisma.user.findUniqueOrThrow({ where: { email: TARGET.email } })).disabledAt).toBeNull();

      await row.getByRole("button", { name: `Disable ${TARGET.email}` }).click();
      await dialog.getByRole("button", { name: "Disable" }).click();
      await row.locator("td", { hasText: /^disabled$/ }).waitFor();
      expect((await database.prisma.user.findUniqueOrThrow({ where: { email: TARGET.email } })).disabledAt).not.toBeNull();

      await row.getByRole("button", { name: `Reset password of ${TARGET.email}` }).click();
      await page
        .getByRole("dialog", { name: `Reset the password of ${TARGET.email}?` })
        .getByRole("button", { name: "Reset password" })
        .click();
      const shown = page.getByTestId(`new-password-${TARGET.email}`);
      const password = (await shown.locator("code").textContent())!;
      expect(password.length).toBeGreaterThanOrEqual(20);
      const stored = await findUserForLogin(database.prisma, TARGET.email);
      expect(await verifyPassword(stored!.passwordHash, password)).toBe(true);
      expect(await verifyPassword(stored!.passwordHash, TARGET.password)).toBe(false);
      await shoot(page, "users-desktop");

      // Shown once: nowhere after a reload, nor in anything the page fetches.
      const bodies: string[] = [];
      page.on("response", async (response) => {
        if (response.url().includes("/api/console/")) bodies.push(await response.text().catch(() => ""));
      });
      await page.reload();
      await row.waitFor();
      await expect(page.getByTestId(`new-password-${TARGET.email}`).count()).resolves.toBe(0);
      await expect(page.content()).resolves.not.toContain(password);
      expect(bodies.join("\n")).not.toContain(password);

      await shootAtPhoneWidth(page, "users-phone", `tr[data-user-email="${TARGET.email}"]`);
    } finally {
      await context.close();
    }
  }, 90_000);
});

describe("keys", () => {
  it("shows when a key was last used and flags an allowed model that nothing serves", async () => {
    // Any authenticated request is a use; the heartbeat writes it within 500 ms.
    const used = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(used.status).toBe(200);
    const keyId = (await database.prisma.apiKey.findFirstOrThrow({ where: { name: "with-a-typo" } })).id;
    for (let i = 0; i < 40 && !(await database.prisma.apiKeyUsage.findUnique({ where: { keyId } })); i++)
      await new Promise((r) => setTimeout(r, 250));
    const { context, page } = await signedIn();
    try {
      await page.goto(`${server.url}/keys`);
      const row = page.locator('tr[data-key-name="with-a-typo"]');
      await expect(row.getByTestId("unknown-model").textContent()).resolves.toBe("gpt-4o-typo (unknown)");
      await expect(row.getByTestId("unknown-model").count()).resolves.toBe(1);
      await expect(row.locator("time").textContent()).resolves.toMatch(/ago$/);
      await shoot(page, "keys-desktop");
      await shootAtPhoneWidth(page, "keys-phone", 'tr[data-key-name="with-a-typo"]');
    } finally {
      await context.close();
    }
  }, 60_000);
});

describe("custom scaling policies", () => {
  it("are saved with a form, not JSON, and deleted after a confirmation", async () => {
    const { context, page } = await signedIn();
    try {
      await page.goto(`${server.url}/scaling`);
      const form = page.getByRole("form", { name: "Save a custom policy" });
      await form.getByLabel("Name").fill("nights");
      await form.getByLabel("Minimum instances").fill("1");
      await form.getByLabel("Scale up at CPU (%)").fill("65");
      await form.getByLabel("Scaling down: rate policy 1: amount").fill("2");
      await form.getByRole("button", { name: "Save policy" }).click();
      await form.getByRole("status").filter({ hasText: "Saved nights" }).waitFor();
      const saved = await database.prisma.scalingPolicy.findUniqueOrThrow({ where: { name: "nights" } });
      expect(saved.spec).toMatchObject({
        minReplicas: 1,
        cpu: { scaleUpAtPercent: 65 },
        behavior: { scaleDown: { policies: [{ value: 2 }] } },
      });

      // A mistake comes back naming the field, and nothing is saved.
      await form.getByLabel("Name").fill("broken");
      await form.getByLabel("Scale down at CPU (%)").fill("90");
      await form.getByRole("button", { name: "Save policy" }).click();
      await form.getByRole("alert").filter({ hasText: "scaleDownAtPercent" }).waitFor();
      expect(await database.prisma.scalingPolicy.count({ where: { name: "broken" } })).toBe(0);

      const row = page.locator('tr[data-policy="nights"]');
      await row.getByRole("button", { name: "Delete nights" }).click();
      await page.getByRole("dialog", { name: "Delete policy nights?" }).getByRole("button", { name: "Delete policy" }).click();
      await row.waitFor({ state: "detached" });
      expect(await database.prisma.scalingPolicy.count({ where: { name: "nights" } })).toBe(0);
      await expect(
        page
          .locator('tr[data-policy="balanced"]')
          .getByRole("button", { name: /^Delete/ })
          .count(),
      ).resolves.toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);
});

describe("the menu at phone width", () => {
  it("is scrolled to show the current page", async () => {
    const { context, page } = await signedIn(PHONE);
    try {
      for (const [href, label] of [
        ["/capacity", "Capacity"],
        ["/users", "Users"],
      ] as const) {
        await page.goto(`${server.url}${href}`);
        const nav = page.getByRole("navigation", { name: "Console" });
        const link = nav.getByRole("link", { name: label });
        await expect(link.getAttribute("aria-current")).resolves.toBe("page");
        // Give the effect a frame, then the link must lie inside the bar's visible width.
        await page.waitForFunction(() => (document.querySelector("nav.sidenav") as HTMLElement).scrollLeft > 0);
        const [bar, box] = await Promise.all([nav.boundingBox(), link.boundingBox()]);
        expect(box!.x).toBeGreaterThanOrEqual(bar!.x);
        expect(box!.x + box!.width).toBeLessThanOrEqual(bar!.x + bar!.width);
      }
    } finally {
      await context.close();
    }
  }, 60_000);
});
