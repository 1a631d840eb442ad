// The provider form's Responses API setting end to end, in Chromium, through the real sign-in form,
// against a real server: an admin adds an OpenAI-compatible provider marked native, a Responses
// request then reaches the upstream (the OpenAI stand-in) as /v1/responses; the admin switches it
// to translate, and the next request reaches it as a chat completion.
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createUser } from "../../lib/control-plane/users/users";
import { launchChromium, signIn } from "../helpers/console-browser";
import { eventually } from "../helpers/gateway-fixture";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const ADMIN = { email: "admin@example.test", password: "admin-password-123" };

let scratch: ScratchDatabase;
let database: Database;
let server: ServerProcess;
let browser: Browser;
let upstream: OpenAIStandIn;
let key: string;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_responses_e2e_${Date.now()}_${randomBytes(3).toString("hex")}`, {
    migrate: true,
  });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  key = (await createApiKey(database.prisma, { name: "responses" })).key;
  upstream = await startOpenAIStandIn({ name: "U" });
  server = await startServer({ env: { DATABASE_URL: scratch.url, DRAIN_TIMEOUT_MS: "3000", SEED_SIMULATOR: "false" } });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await upstream?.close();
  await database?.close();
  await scratch?.drop();
});

async function signedIn(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await signIn(page, server.url, ADMIN.email, ADMIN.password);
  return { context, page };
}

/** One Responses request: its status, its answer's text, and the path it reached the upstream by. */
async function askResponses(model: string): Promise<{ status: number; text: string | undefined; path: string | undefined }> {
  upstream.reset();
  const response = await fetch(`${server.url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, input: "which way?" }),
  });
  const body = (await response.json()) as { output?: Array<{ content?: Array<{ text?: string }> }> };
  return { status: response.status, text: body.output?.[0]?.content?.[0]?.text, path: upstream.requests.at(-1)?.path };
}

describe("an admin", () => {
  it("marks a provider as speaking the Responses API natively, then switches it to translate", async () => {
    const { context, page } = await signedIn();
    try {
      const name = `native-${randomBytes(3).toString("hex")}`;
      const model = `${name}-model`;
      await page.goto(`${server.url}/providers`);
      const form = page.getByRole("form", { name: "Add a provider" });
      await form.getByLabel("Kind").selectOption("openai_compatible");
      await form.getByLabel("Name").fill(name);
      await form.getByLabel("Base URL").fill(upstream.url);
      await form.getByLabel("Responses API").selectOption("native");
      await form.getByLabel(/^Deployments/).fill(`${model} = gpt-4o-mini`);
      await form.getByRole("button", { name: "Add provider" }).click();
      const card = page.getByTestId(`provider-${name}`);
      await card.getByText("Responses API: native (the upstream serves /responses)").waitFor();

      // The instance reloads providers on their change's notification.
      await eventually(async () => (await askResponses(model)).status === 200, 10_000, 100);
      expect(await askResponses(model)).toEqual({ status: 200, text: "[U] echo: which way?", path: "/v1/responses" });

      await card.getByRole("button", { name: `Edit ${name}` }).click();
      const edit = page.getByRole("form", { name: `Edit ${name}` });
      await expect(edit.getByLabel("Responses API").inputValue()).resolves.toBe("native");
      await edit.getByLabel("Responses API").selectOption("translate");
      await edit.getByRole("button", { name: "Save" }).click();
      await card.getByText("Responses API: translate to chat completions").waitFor();

      await eventually(async () => (await askResponses(model)).path === "/v1/chat/completions", 10_000, 100);
      expect(await askResponses(model)).toEqual({ status: 200, text: "[U] echo: which way?", path: "/v1/chat/completions" });
      const rows = await database.prisma.auditEntry.findMany({ where: { targetType: "provider" }, orderBy: { id: "asc" } });
      expect(
        rows.map((row) => [row.action, (row.after as { settings?: { responsesApi?: string } }).settings?.responsesApi]),
      ).toEqual([
        ["provider.create", "native"],
        ["provider.update", "translate"],
      ]);
    } finally {
      await context.close();
    }
  });
});
