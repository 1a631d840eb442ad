// The Capacity and Scaling pages end to end, in Chromium through the real sign-in form, against a
// real server with its own database:
//  - the largest look-back the form allows (90 days) is saved from the page and the page still
//    shows its numbers (the peak read at a coarser step, named) with the form in reach;
//  - a plan above the active policy's maximum is called out;
//  - switching the policy shows the new one at once (not at the next 10 s refresh), says that the
//    latest decision predates it, and shows the leader's next decision under it within seconds;
//  - instance charts have whole-number ticks only;
//  - screenshots of both pages at desktop and phone width land in docs/screenshots/.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { seedPolicies } from "../../lib/control-plane/scaling/store";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { insertRollupRows } from "../helpers/rollup-rows";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SHOTS = path.join(PROJECT_ROOT, "docs", "screenshots");
const ADMIN = { email: "capacity-admin@example.test", password: "admin-password-123" };
const SCALING_INTERVAL_MS = 5_000;
const VIEWPORTS = { desktop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } } as const;

let scratch: ScratchDatabase;
let database: Database;
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_capacity_e2e_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await seedPolicies(database.prisma);
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  // A busy 10 minutes a day ago, as the rollups keep it for a week: 1-minute rows (read for steps
  // under 10 minutes), their 10-minute rollup and the fleet's rows: 6 000 000 requests, 10 000 req/s.
  const tenMinutes = 600_000;
  const start = Math.floor((Date.now() - 86_400_000) / tenMinutes) * tenMinutes;
  await insertRollupRows(database.pool, [
    ...Array.from({ length: 10 }, (_, minute) => ({
      resolution: 60 as const,
      instanceId: "yesterday",
      bucket: start + minute * 60_000,
      requests2xx: 600_000,
      cpuPercent: 50,
    })),
    { resolution: 600, instanceId: "yesterday", bucket: start, requests2xx: 6_000_000, cpuPercent: 50 },
  ]);
  server = await startServer({
    env: {
      DATABASE_URL: scratch.url,
      DRAIN_TIMEOUT_MS: "3000",
      SCALING_INTERVAL_MS: String(SCALING_INTERVAL_MS),
      HEARTBEAT_MS: "1000",
      SNAPSHOT_INTERVAL_MS: "2000",
    },
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

async function signedIn(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await signIn(page, server.url, ADMIN.email, ADMIN.password);
  return { context, page, errors };
}

async function shoot(page: Page, name: string, ready: () => Promise<void>): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await ready();
    await page.screenshot({ path: path.join(SHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

/** The y-axis tick labels of a chart, once it has drawn them (recharts may draw them outside the axis' group: the left axis' labels are the ones anchored at their end). */
async function yTicks(page: Page, label: string): Promise<string[]> {
  const ticks = page.locator(`figure[aria-label="${label}"] .recharts-cartesian-axis-tick-value[text-anchor="end"]`);
  await ticks.first().waitFor();
  return ticks.allTextContents();
}

describe("the Capacity page", () => {
  it("saves the largest look-back the form allows and still shows its numbers, the form in reach", async () => {
    const { context, page, errors } = await signedIn();
    try {
      await page.goto(`${server.url}/capacity`);
      const form = page.getByRole("form", { name: "Capacity settings" });
      const days = form.getByLabel("Peak over the last (days)");
      await expect(days.getAttribute("max")).resolves.toBe("90");
      await days.fill("90");
      await form.getByRole("button", { name: "Save" }).click();
      await form.getByRole("status").waitFor();
      const recommendation = page.getByTestId("panel-capacity-recommendation");
      await page.getByText("Peak (busiest 20-minute average, last 90 days)").waitFor();
      await expect(recommendation.getAttribute("data-state")).resolves.toBe("ready");
      // 6 000 000 requests over a 20-minute step: 5 000 req/s.
      await expect(page.getByTestId("capacity-peak").textContent()).resolves.toBe("5000 req/s");
      await expect(page.locator('[data-state="error"]').count()).resolves.toBe(0);
      await expect(form.isVisible()).resolves.toBe(true);
      // ceil(5000 ÷ 250 × 1.5) = 30 medium instances: above balanced's 15.
      await expect(page.getByTestId("capacity-above-maximum").textContent()).resolves.toContain(
        "more than the balanced policy's maximum of 15",
      );
      await shoot(page, "capacity", () => page.getByTestId("capacity-above-maximum").waitFor());
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe("the Scaling page", () => {
  it("shows a switch at once, says the latest decision predates it, then shows the leader's next one", async () => {
    const { context, page, errors } = await signedIn();
    try {
      await page.goto(`${server.url}/scaling`);
      // The leader has decided under balanced (every 5 s here).
      await expect
        .poll(() => page.getByTestId("scaling-reason").textContent(), { timeout: 20_000 })
        .not.toMatch(/^No decision yet/);
      await page.getByRole("button", { name: "Switch to aggressive" }).click();
      const confirm = page.getByTestId("switch-confirmation");
      await confirm.getByLabel("Reason (kept in the audit log)").fill("launch week");
      const clicked = Date.now();
      await confirm.getByRole("button", { name: "Switch to aggressive" }).click();
      // Well before the page's 10 s refresh.
      await page.locator('[data-testid="scaling-active-policy"]', { hasText: "aggressive" }).waitFor({ timeout: 3_000 });
      expect(Date.now() - clicked).toBeLessThan(3_000);
      // The leader's next decision under aggressive shows within its interval and the 2 s refresh.
      await page.getByTestId("scaling-decision-pending").waitFor({ state: "detached", timeout: SCALING_INTERVAL_MS + 6_000 });
      const latest = (await (await page.request.get(`${server.url}/api/console/scaling?range=15m`)).json()).latest;
      expect(latest.policyName).toBe("aggressive");
      // Instance counts on whole-number ticks.
      const ticks = await yTicks(page, "Current, desired and recommended instances");
      expect(ticks.length).toBeGreaterThan(1);
      for (const tick of ticks) expect(tick).toMatch(/^\d+$/);
      await shoot(page, "scaling", () =>
        page.locator('figure[aria-label="Current, desired and recommended instances"]').waitFor(),
      );
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
