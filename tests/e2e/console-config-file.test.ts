// What a configuration file manages, as an admin sees it in the console (Chromium, the real
// sign-in form, a server started with CONFIG_FILE): the "managed by file" badge on the provider,
// the policy and the alert rule, their edit, delete and switch controls disabled, a provider made
// by hand still editable; and the console API refusing a change by hand with a 409.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { seedPolicies } from "../../lib/control-plane/scaling/store";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const ADMIN = { email: "config-admin@example.test", password: "admin-password-123" };
const FILE = `
version: 1
providers:
  - name: filed
    kind: simulator
    deployments: [{ modelName: filed-model, upstreamModel: sim }]
scaling:
  active: filed-policy
  policies:
    - name: filed-policy
      spec:
        minReplicas: 2
        maxReplicas: 4
        cpu: { scaleUpAtPercent: 70, scaleDownAtPercent: 30 }
        behavior:
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 1, periodSeconds: 60 }] }
          scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 1, periodSeconds: 60 }] }
alertRules:
  - { id: cpu_high, threshold: 77 }
`;

let scratch: ScratchDatabase;
let database: Database;
let server: ServerProcess;
let browser: Browser;
let folder: string;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_console_config_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await seedPolicies(database.prisma);
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  await createProvider(
    database.prisma,
    { kind: "simulator", name: "by-hand", deployments: [{ modelName: "hand-model", upstreamModel: "sim" }] },
    SECRET,
  );
  folder = await mkdtemp(path.join(os.tmpdir(), "agenticorp-console-config-"));
  await writeFile(path.join(folder, "agenticorp.yaml"), FILE);
  server = await startServer({ env: { DATABASE_URL: scratch.url, SECRET, CONFIG_FILE: path.join(folder, "agenticorp.yaml") } });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.close();
  await scratch?.drop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

it("shows what the file manages as read-only, and the console API refuses to change it", async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  try {
    await signIn(page, server.url, ADMIN.email, ADMIN.password);

    await page.goto(`${server.url}/providers`);
    const filed = page.getByTestId("provider-filed");
    await filed.getByTestId("managed-by-file").waitFor();
    expect(await filed.getByRole("button", { name: "Edit filed" }).isDisabled()).toBe(true);
    expect(await filed.getByRole("button", { name: "Delete filed" }).isDisabled()).toBe(true);
    const byHand = page.getByTestId("provider-by-hand");
    expect(await byHand.getByTestId("managed-by-file").count()).toBe(0);
    expect(await byHand.getByRole("button", { name: "Edit by-hand" }).isEnabled()).toBe(true);

    // The console's own API, from the signed-in page: a change by hand is refused, in the console's error shape.
    const refused = await page.evaluate(async () => {
      const list = (await (await fetch("/api/console/providers")).json()) as {
        providers: Array<{ id: string; name: string; managedBy: string | null }>;
      };
      const target = list.providers.find((p) => p.name === "filed")!;
      const response = await fetch(`/api/console/providers/${target.id}`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ enabled: false }),
      });
      return {
        status: response.status,
        body: (await response.json()) as { error: { code: string; message: string } },
        managedBy: target.managedBy,
      };
    });
    expect(refused).toMatchObject({ status: 409, managedBy: "file", body: { error: { code: "managed_by_file" } } });

    await page.goto(`${server.url}/scaling`);
    await page.getByTestId("active-from-file").waitFor();
    const policyRow = page.locator('tr[data-policy="filed-policy"]');
    await policyRow.getByTestId("managed-by-file").waitFor();
    const balancedRow = page.locator('tr[data-policy="balanced"]');
    expect(await balancedRow.getByRole("button", { name: "Switch to balanced" }).isDisabled()).toBe(true);

    await page.goto(`${server.url}/alerts`);
    const rule = page.locator('tr[data-rule-id="cpu_high"]');
    await rule.getByTestId("managed-by-file").waitFor();
    expect(await rule.getByRole("form").count()).toBe(0);
    expect(await page.locator('tr[data-rule-id="memory_high"]').getByRole("form").count()).toBe(1);
    await page.screenshot({ path: path.join(PROJECT_ROOT, "test-results", "console-config-file-alerts.png"), fullPage: true });
  } finally {
    await context.close();
  }
  expect(await database.prisma.provider.findUniqueOrThrow({ where: { name: "filed" } })).toMatchObject({
    enabled: true,
    managedBy: "file",
  });
}, 120_000);
