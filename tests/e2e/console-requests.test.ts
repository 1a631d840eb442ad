// The request log in the console, end to end in Chromium against a real server and its own
// database: a client reports a failed request by its x-request-id; an admin types it into the
// Requests page and sees what happened (the attempts on the failing upstream, the captured prompt);
// an operator opening the same /requests/<id> sees everything but the bodies; the status filter
// finds it among kept successes; an id nobody used says so. Upstreams: the built-in simulator and
// the OpenAI stand-in answering 500. Screenshots go to docs/screenshots/.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey, setApiKeyCapture } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SHOTS = path.join(PROJECT_ROOT, "docs", "screenshots");
const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const ADMIN = { email: "admin@example.test", password: "admin-password-123" };
const OPERATOR = { email: "operator@example.test", password: "operator-password-123" };
const PROMPT = "why did my request fail, tell me";

let scratch: ScratchDatabase;
let database: Database;
let upstream: OpenAIStandIn;
let server: ServerProcess;
let browser: Browser;
let key: string;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_requests_e2e_${Date.now()}_${randomBytes(3).toString("hex")}`, {
    migrate: true,
  });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  await createUser(database.prisma, { ...OPERATOR, role: "operator" });
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
  const created = await createApiKey(database.prisma, { name: "support-ticket-key" });
  key = created.key;
  await setApiKeyCapture(database.prisma, created.record.id, { captureBodies: true });
  server = await startServer({
    env: { DATABASE_URL: scratch.url, SECRET, DRAIN_TIMEOUT_MS: "3000", ROUTER_MAX_ATTEMPTS: "2", REQUEST_LOG_SAMPLE_RATE: "1" },
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

async function signedIn(user: { email: string; password: string }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await signIn(page, server.url, user.email, user.password);
  return { context, page };
}

/** A completion as a client sends it; the x-request-id it got back. */
async function complete(model: string, content: string): Promise<{ status: number; requestId: string }> {
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content }] }),
  });
  await response.arrayBuffer();
  return { status: response.status, requestId: response.headers.get("x-request-id")! };
}

describe("the Requests page", () => {
  it("opens a failed request by the id a client reports: attempts, error, and the prompt for admins only", async () => {
    const ok = await complete("sim-model", "all good here");
    const failed = await complete("broken-model", PROMPT);
    expect([ok.status, failed.status]).toEqual([200, 502]);

    const admin = await signedIn(ADMIN);
    try {
      const { page } = admin;
      await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Requests" }).click();
      await page.getByRole("heading", { name: "Requests", exact: true }).waitFor();
      await page.getByLabel(/^Request id/).fill(failed.requestId);
      await page.getByRole("button", { name: "Open" }).click();
      await page.waitForURL(`${server.url}/requests/${failed.requestId}`);
      const entry = page.getByTestId("request-entry");
      // Written within about a second; the page looks again until it is there.
      await entry.waitFor({ timeout: 15_000 });
      const facts = entry.getByTestId("request-facts");
      await expect(facts.textContent()).resolves.toContain("502");
      await expect(facts.textContent()).resolves.toContain("support-ticket-key");
      await expect(facts.textContent()).resolves.toContain("broken-model");
      await expect(entry.locator('[data-attempt-outcome="server_error"]').count()).resolves.toBe(2);
      await expect(entry.getByTestId("request-bodies").textContent()).resolves.toContain(PROMPT);
      await page.screenshot({ path: path.join(SHOTS, "request-detail-desktop.png"), fullPage: true });

      // The list, filtered to server errors: the failed request, not the success.
      await page.goto(`${server.url}/requests`);
      await page.locator(`tr[data-request-id="${ok.requestId}"]`).waitFor();
      await page.getByLabel("Status").selectOption("5xx");
      // The unfiltered page stays on screen until the filtered one arrives: the success leaves, the failure stays.
      await page.locator(`tr[data-request-id="${ok.requestId}"]`).waitFor({ state: "detached" });
      await expect(page.locator(`tr[data-request-id="${failed.requestId}"]`).count()).resolves.toBe(1);
      await page.getByLabel("Status").selectOption("");
      await page.locator(`tr[data-request-id="${ok.requestId}"]`).waitFor();
      await page.screenshot({ path: path.join(SHOTS, "requests-desktop.png"), fullPage: true });

      // An id nobody used.
      await page.goto(`${server.url}/requests/never-sent-${randomBytes(3).toString("hex")}`);
      await page
        .getByTestId("request-not-found")
        .getByText(/No entry for this request id/)
        .waitFor();
    } finally {
      await admin.context.close();
    }

    const operator = await signedIn(OPERATOR);
    try {
      const { page } = operator;
      await page.goto(`${server.url}/requests/${failed.requestId}`);
      const entry = page.getByTestId("request-entry");
      await entry.waitFor();
      await entry.getByText("Bodies were captured; only admins see them.").waitFor();
      await expect(page.content()).resolves.not.toContain(PROMPT);
      // Operators read the sampling but get no form to change it.
      await page.goto(`${server.url}/requests`);
      await page.getByTestId("request-log-settings-summary").waitFor();
      await expect(page.getByRole("form", { name: "Request log sampling" }).count()).resolves.toBe(0);
    } finally {
      await operator.context.close();
    }
  }, 120_000);
});
