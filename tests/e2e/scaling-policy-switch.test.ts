// Switching the scaling policy, end to end, on two real server processes sharing one database:
// an admin signs in to A's console (Chromium, the real form), opens Scaling, switches balanced →
// aggressive after reading what changes and giving a reason. Then: the audit log has the entry,
// A's Scaling page shows aggressive and its HPA manifest (60% target), and B — which only hears
// of it through PostgreSQL NOTIFY — carries the new policy in its FleetSnapshot (its /metrics
// gauge of the policy's minimum, read from the snapshot) within 2 s; the leader's decisions
// follow. A second switch through A's console API measures the propagation again without a browser.
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { seedPolicies } from "../../lib/control-plane/scaling/store";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { sessionCookie } from "../helpers/console-session";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const ADMIN = { email: "scaling-admin@example.test", password: "admin-password-123" };
const ENV = {
  SCALING_INTERVAL_MS: "500",
  HEARTBEAT_MS: "500",
  LEADER_TTL_MS: "2000",
  DRAIN_TIMEOUT_MS: "3000",
  CONFIG_REFRESH_MS: "600000",
};

let scratch: ScratchDatabase;
let database: Database;
let a: ServerProcess;
let b: ServerProcess;
let browser: Browser;
let adminId: string;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_scaling_switch_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await seedPolicies(database.prisma);
  adminId = (await createUser(database.prisma, { ...ADMIN, role: "admin" })).id;
  // The periodic full reload is pushed out of the way: only NOTIFY can bring the change in time.
  [a, b] = await Promise.all([
    startServer({ env: { DATABASE_URL: scratch.url, ...ENV } }),
    startServer({ env: { DATABASE_URL: scratch.url, CONSOLE_ENABLED: "false", ...ENV } }),
  ]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await database?.close();
  await scratch?.drop();
});

/** The policy's minimum as B's FleetSnapshot has it (the gauge reads the snapshot at scrape time). */
async function minimumOnB(): Promise<number | null> {
  const text = await (await fetch(`${b.url}/metrics`)).text();
  const match = /^agenticorp_scaling_policy_min_replicas (\d+)$/m.exec(text);
  return match ? Number(match[1]) : null;
}

async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  for (;;) {
    const value = await read();
    if (done(value)) return { value, ms: performance.now() - started };
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function latestDecisionPolicy(): Promise<string | null> {
  const { rows } = await database.pool.query<{ policy_name: string }>(
    `SELECT policy_name FROM scaling_decisions ORDER BY id DESC LIMIT 1`,
  );
  return rows[0]?.policy_name ?? null;
}

it("an admin switches balanced → aggressive in the console; the audit log, the Scaling page, the HPA and the other instance follow", async () => {
  expect(await minimumOnB()).toBe(3);
  await until(latestDecisionPolicy, (p) => p === "balanced", 10_000);

  const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  try {
    await signIn(page, a.url, ADMIN.email, ADMIN.password);
    await page.goto(`${a.url}/scaling`);
    await page.getByTestId("scaling-active-policy").filter({ hasText: "balanced" }).waitFor();
    await page.getByRole("button", { name: "Switch to aggressive" }).click();
    const confirmation = page.getByTestId("switch-confirmation");
    // What changes, side by side, before anything does.
    const changes = confirmation.getByRole("table", { name: "What changes" });
    await expect(changes.getByRole("row", { name: /Instances/ }).textContent()).resolves.toContain("3–153–20");
    await expect(changes.getByRole("row", { name: /Scale up at/ }).textContent()).resolves.toContain("70% CPU60% CPU");
    await confirmation.getByLabel("Reason (kept in the audit log)").fill("launch traffic expected");
    await confirmation.getByRole("button", { name: "Switch to aggressive" }).click();

    await page.getByTestId("scaling-active-policy").filter({ hasText: "aggressive" }).waitFor();
    await expect(page.getByTestId("hpa-manifest").textContent()).resolves.toContain("averageUtilization: 60");
    await page.screenshot({ path: path.join(PROJECT_ROOT, "test-results", "console-scaling-switched.png"), fullPage: true });

    // Aggressive's minimum is balanced's, so B's gauge cannot show this switch: the leader's decisions do.
    await until(latestDecisionPolicy, (p) => p === "aggressive", 5_000);

    await page.goto(`${a.url}/audit`);
    const entry = page.getByRole("row", { name: /scaling_policy\.activate/ }).first();
    await entry.waitFor();
    await expect(entry.textContent()).resolves.toContain(ADMIN.email);
    const audit = await database.prisma.auditEntry.findFirst({
      where: { action: "scaling_policy.activate" },
      orderBy: { id: "desc" },
    });
    expect(audit).toMatchObject({ actorEmail: ADMIN.email, targetType: "scaling_policy" });
    expect(audit!.before).toMatchObject({ name: "balanced" });
    expect(audit!.after).toMatchObject({ name: "aggressive", reason: "launch traffic expected" });
    // The leader reads the active policy at each decision: the first one after the switch uses it.
    const { rows } = await database.pool.query<{ first: Date }>(
      `SELECT min(at) AS first FROM scaling_decisions WHERE policy_name = 'aggressive'`,
    );
    const lag = rows[0]!.first.getTime() - audit!.at.getTime();
    console.log(`[figure] policy switch: first decision under the new policy ${lag} ms after the switch`);
    expect(lag).toBeLessThan(2_000);
  } finally {
    await context.close();
  }

  // The second switch: conservative's minimum (2) differs, so B's snapshot shows when it arrives.
  setConfig(parseConfig({ DATABASE_URL: scratch.url, SECRET, NODE_ENV: "test", INSTANCE_ID: "scaling-switch-test" }));
  const cookie = await sessionCookie({ id: adminId, email: ADMIN.email, role: "admin" });
  const response = await fetch(`${a.url}/api/console/scaling/active`, {
    method: "PUT",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ name: "conservative", reason: "quiet week" }),
  });
  expect(response.status).toBe(200);
  const seen = await until(minimumOnB, (m) => m === 2, 2_000);
  console.log(`[figure] policy switch: instance B's FleetSnapshot follows after ${Math.round(seen.ms)} ms`);
  expect(seen.ms).toBeLessThan(2_000);
  await until(latestDecisionPolicy, (p) => p === "conservative", 5_000);
}, 120_000);
