// The console in Chromium: a real server with the console enabled sends anonymous visitors to the
// sign-in page, and after signing in through the form lists itself, healthy, on the instances page.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../lib/platform/db/client";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { startServer, type ServerProcess } from "../helpers/server-process";

const databaseUrl = inject("databaseUrl");
const SCREENSHOT = path.join(PROJECT_ROOT, "test-results", "console-home.png");
const email = `viewer-${randomBytes(4).toString("hex")}@example.test`;
const password = "viewer-password-123";

let server: ServerProcess;
let browser: Browser;
beforeAll(async () => {
  const database = createDatabase({ url: databaseUrl, poolMax: 1 });
  try {
    await createUser(database.prisma, { email, role: "operator", password });
  } finally {
    await database.close();
  }
  server = await startServer({ env: { DATABASE_URL: databaseUrl, DRAIN_TIMEOUT_MS: "5000" } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The instance registers just after the migrations log line; wait for its row, bounded. */
async function waitForRegistration(instanceId: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    while ((await client.query("SELECT 1 FROM instances WHERE id = $1", [instanceId])).rowCount === 0) {
      if (Date.now() > deadline)
        throw new Error(`instance ${instanceId} did not register within ${timeoutMs} ms:\n${server.output().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await client.end();
  }
}

describe("console home page", () => {
  it("sends an anonymous visitor to the sign-in page", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(server.url, { waitUntil: "load" });
      expect(response?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe("/login");
      await expect(page.getByRole("form", { name: "Sign in" }).count()).resolves.toBe(1);
    } finally {
      await context.close();
    }
  });

  it("lists this server's instance as healthy once signed in", async () => {
    await waitForRegistration(server.instanceId, 10_000);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await signIn(page, server.url, email, password);
      await page.goto(`${server.url}/instances`, { waitUntil: "load" });

      const table = page.getByRole("table", { name: "Instances" });
      await table.waitFor();
      const row = table.locator(`tbody tr[data-instance-id="${server.instanceId}"]`);
      await row.waitFor();
      await expect(row.count()).resolves.toBe(1);
      const headers = await table.locator("thead th").allTextContents();
      const cells = await row.locator("td").allTextContents();
      expect(headers).toContain("Instance");
      expect(headers).toContain("Address");
      expect(headers).toContain("Status");
      expect(cells[headers.indexOf("Instance")]).toBe(server.instanceId);
      expect(cells[headers.indexOf("Address")]).toBe(`${os.hostname()}:${new URL(server.url).port}`);
      expect(cells[headers.indexOf("Status")]).toBe("healthy");

      await mkdir(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await context.close();
    }
  });
});
