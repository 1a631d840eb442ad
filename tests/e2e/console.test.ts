// The console in Chromium: a real server with the console enabled lists itself, healthy, on `/`.
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/version";
import { startServer, type ServerProcess } from "../helpers/server-process";

const databaseUrl = inject("databaseUrl");
const SCREENSHOT = path.join(PROJECT_ROOT, "test-results", "console-home.png");

let server: ServerProcess;
let browser: Browser;
beforeAll(async () => {
  server = await startServer({ env: { DATABASE_URL: databaseUrl, DRAIN_TIMEOUT_MS: "5000" } });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: 30_000,
  });
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
      if (Date.now() > deadline) throw new Error(`instance ${instanceId} did not register within ${timeoutMs} ms:\n${server.output().slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await client.end();
  }
}

describe("console home page", () => {
  it("lists this server's instance as healthy", async () => {
    await waitForRegistration(server.instanceId, 10_000);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const response = await page.goto(server.url, { waitUntil: "load" });
      expect(response?.status()).toBe(200);

      const table = page.getByRole("table", { name: "Instances" });
      await table.waitFor();
      const row = table.locator(`tbody tr[data-instance-id="${server.instanceId}"]`);
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
