// The alerts page in Chromium, through the real sign-in form, against a real server on a fresh
// single-instance install (SCALING_TARGET none, the balanced policy's minimum of 3): "below the
// policy minimum" fires as a warning, not critical, and is listed first. An operator acknowledges
// it and silences another rule; both show who did it, the silenced rule apart, until when; both
// land in the audit log. Screenshots at desktop and phone width go to docs/screenshots/.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SHOTS = path.join(PROJECT_ROOT, "docs", "screenshots");
const OPERATOR = { email: "operator@example.test", password: "operator-password-123" };
const BELOW_MINIMUM = "instances_below_minimum";

let scratch: ScratchDatabase;
let database: Database;
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_alerts_e2e_${Date.now()}_${randomBytes(3).toString("hex")}`, {
    migrate: true,
  });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await createUser(database.prisma, { ...OPERATOR, role: "operator" });
  server = await startServer({
    env: {
      DATABASE_URL: scratch.url,
      DRAIN_TIMEOUT_MS: "3000",
      SEED_SIMULATOR: "true",
      ALERT_EVALUATION_MS: "500",
      HEARTBEAT_MS: "1000",
    },
  });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.close();
  await scratch?.drop();
});

describe("the alerts page", () => {
  it("lists what fires first, as a warning on a fresh install, and lets an operator acknowledge and silence", async () => {
    // One healthy instance under a minimum of 3: the leader fires the rule at its first evaluations.
    for (const deadline = Date.now() + 30_000; ; await new Promise((resolve) => setTimeout(resolve, 250))) {
      const state = await database.prisma.alertState.findFirst({ where: { ruleId: BELOW_MINIMUM, status: "firing" } });
      if (state) break;
      if (Date.now() > deadline) throw new Error("instances_below_minimum did not fire within 30 s");
    }
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    try {
      await signIn(page, server.url, OPERATOR.email, OPERATOR.password);
      await page.goto(`${server.url}/alerts`);
      const rules = page.getByRole("table", { name: "Alert rules", exact: true });
      const firing = rules.locator(`tr[data-rule-id="${BELOW_MINIMUM}"][data-state="firing"]`);
      await firing.waitFor();
      expect(await rules.locator("tbody tr").first().getAttribute("data-rule-id")).toBe(BELOW_MINIMUM);
      await expect(firing.locator(".pill").textContent()).resolves.toBe("warning");
      await expect(firing.locator("strong").textContent()).resolves.toBe("Healthy instances below the policy minimum (3)");
      // An operator acts on alerts but edits no threshold.
      expect(await page.getByRole("form", { name: /^Edit / }).count()).toBe(0);
      expect(await page.getByRole("spinbutton").count()).toBe(0);

      await firing.getByRole("button", { name: "Acknowledge" }).click();
      await firing.getByText(`acknowledged by ${OPERATOR.email}`).waitFor();

      const cpu = rules.locator('tr[data-rule-id="cpu_high"]');
      await cpu.getByLabel("Silence for").selectOption({ label: "4 hours" });
      await cpu.getByRole("button", { name: "Silence" }).click();
      const silenced = page.getByRole("table", { name: "Silenced alert rules" }).locator('tr[data-rule-id="cpu_high"]');
      await silenced.getByTestId("silence").waitFor();
      await expect(silenced.getByTestId("silence").textContent()).resolves.toMatch(
        new RegExp(`^silenced by ${OPERATOR.email} until `),
      );
      expect(await rules.locator('tr[data-rule-id="cpu_high"]').count()).toBe(0);
      await page.screenshot({ path: path.join(SHOTS, "alerts-desktop.png"), fullPage: true });

      // A phone: the firing alert is the first thing on the page's first table.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      await firing.waitFor();
      expect(await rules.locator("tbody tr").first().getAttribute("data-state")).toBe("firing");
      await page.screenshot({ path: path.join(SHOTS, "alerts-phone.png"), fullPage: true });

      const audit = await database.prisma.auditEntry.findMany({
        where: { action: { startsWith: "alert." } },
        orderBy: { id: "asc" },
      });
      expect(audit.map((e) => [e.action, e.targetId, e.actorEmail])).toEqual([
        ["alert.acknowledge", BELOW_MINIMUM, OPERATOR.email],
        ["alert.silence", "cpu_high", OPERATOR.email],
      ]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
