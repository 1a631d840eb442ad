// Queue depth in the console, end to end in Chromium through the real sign-in form, against a real
// server with its own database (its batch worker off, so the queue stays as written):
//  - the overview's tile shows the queued jobs now;
//  - the Batches page (from the navigation) shows the queue, who fills it, each batch's progress,
//    and narrows to one key's batches;
//  - a custom policy with a queue-depth target saved from the policy form and switched to: the
//    leader's decision explains itself with the queue, and the Decision panel shows the queue it read.
import { randomBytes } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { seedPolicies } from "../../lib/control-plane/scaling/store";
import { createUser } from "../../lib/control-plane/users/users";
import { launchChromium, signIn } from "../helpers/console-browser";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const ADMIN = { email: "batches-admin@example.test", password: "admin-password-123" };
let scratch: ScratchDatabase;
let database: Database;
let server: ServerProcess;
let browser: Browser;
let page: Page;
const errors: string[] = [];

async function batch(keyId: string, id: string, lines: number, done: number, running: number, secondsAgo: number): Promise<void> {
  await database.pool.query(
    `INSERT INTO batches (id, key_id, endpoint, input_file_id, completion_window, status, total_count, created_at, in_progress_at, expires_at)
     VALUES ($1, $2::uuid, '/v1/chat/completions', 'file-in', '24h', 'in_progress', $3, now() - make_interval(secs => $4), now(), now() + interval '1 day')`,
    [id, keyId, lines, secondsAgo],
  );
  await database.pool.query(
    `INSERT INTO batch_jobs (batch_id, line_no, custom_id, body, status, created_at)
     SELECT $1, n, 'req-' || n, '{}'::jsonb,
            (CASE WHEN n <= $3 THEN 'succeeded' WHEN n <= $3 + $4 THEN 'running' ELSE 'queued' END)::"BatchJobStatus", now() - make_interval(secs => $5)
     FROM generate_series(1, $2::int) AS n`,
    [id, lines, done, running, secondsAgo],
  );
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_batches_e2e_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await seedPolicies(database.prisma);
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  const etl = (await createApiKey(database.prisma, { name: "nightly-etl" })).record.id;
  const evals = (await createApiKey(database.prisma, { name: "evals" })).record.id;
  await batch(etl, "batch_etl_1", 500, 120, 30, 300);
  await batch(evals, "batch_evals_1", 40, 10, 2, 60);
  server = await startServer({
    env: {
      DATABASE_URL: scratch.url,
      DRAIN_TIMEOUT_MS: "3000",
      SCALING_INTERVAL_MS: "2000",
      HEARTBEAT_MS: "1000",
      WORKER_ENABLED: "false",
    },
  });
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on("pageerror", (error) => errors.push(error.message));
  await signIn(page, server.url, ADMIN.email, ADMIN.password);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.close();
  await scratch?.drop();
});

describe("queue depth in the console", () => {
  it("shows the queued jobs on the overview", async () => {
    await expect.poll(() => page.getByTestId("stat-batch-queued").textContent()).toBe("378");
  });

  it("shows the queue, who fills it and each batch's progress on the Batches page, and one key's batches", async () => {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Batches" }).click();
    await page.getByRole("heading", { name: "Batches", level: 1 }).waitFor();
    await expect.poll(() => page.getByTestId("batch-queued").textContent()).toBe("378");
    expect(await page.getByTestId("batch-running").textContent()).toBe("32");
    expect(await page.getByTestId("batch-oldest").textContent()).toMatch(/^(5|6) min$/);
    const keys = page.getByRole("table", { name: "Queued and running jobs by API key" });
    expect(await keys.locator("tbody tr th").allTextContents()).toEqual(["nightly-etl", "evals"]);
    const batches = page.getByRole("table", { name: "Batches" });
    expect(await batches.locator("tbody tr").count()).toBe(2);
    expect(await batches.locator('tr[data-batch="batch_etl_1"] [data-testid="batch-progress"]').textContent()).toBe(
      "120 of 500 (24%)",
    );
    await keys.locator('tr[data-key="evals"]').getByRole("button", { name: "Show its batches" }).click();
    await expect
      .poll(() => batches.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-batch"))))
      .toEqual(["batch_evals_1"]);
    expect(errors).toEqual([]);
  });

  it("saves a policy with a queue-depth target from the form, and the leader's decision explains itself with the queue", async () => {
    await page.goto(`${server.url}/scaling`);
    const form = page.getByRole("form", { name: "Save a custom policy" });
    await form.getByLabel("Name").fill("queue-e2e");
    await form.getByLabel("Minimum instances").fill("1");
    await form.getByLabel("Queued batch jobs per instance (empty: none)").fill("100");
    await form.getByRole("button", { name: "Save policy" }).click();
    await form.getByRole("status").waitFor();
    await page.getByRole("button", { name: "Switch to queue-e2e" }).click();
    const confirm = page.getByTestId("switch-confirmation");
    await confirm.getByLabel("Reason (kept in the audit log)").fill("batch backlog");
    await confirm.getByRole("button", { name: "Switch to queue-e2e" }).click();
    // Balanced's 60 s scale-up window (the form starts from the active policy) holds the count;
    // the explanation still names the queue and its target.
    await expect
      .poll(() => page.getByTestId("scaling-reason").textContent(), { timeout: 30_000 })
      .toContain("queued batch jobs 378 (378/instance) is above the 100/instance target");
    expect(await page.getByTestId("scaling-queue").textContent()).toBe("378");
    expect(await page.getByTestId("panel-active-policy").textContent()).toContain("Queued batch jobs per instance100");
    const stored = await database.prisma.scalingPolicy.findUniqueOrThrow({ where: { name: "queue-e2e" } });
    expect((stored.spec as { queueDepthTarget?: number }).queueDepthTarget).toBe(100);
    expect(errors).toEqual([]);
  });
});
