// Provider credentials in custom headers (Azure's api-key, other non-Bearer schemes) against a
// real PostgreSQL, through the console's route handlers as Next.js calls them, with the OpenAI
// stand-in as the upstream: stored encrypted, never returned, never audited, still sent upstream;
// rows written before keep working and are sealed at start.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import type { ConsoleRouteHandler } from "../../lib/control-plane/console/handler";
import { createProvider, listProviders, testProvider, updateProvider } from "../../lib/control-plane/console/providers";
import { decryptSecret } from "../../lib/platform/crypto/secret-box";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { Cancellation } from "../../lib/data-plane/providers/cancellation";
import { createLiveProvider, type ProviderRow } from "../../lib/data-plane/providers/factory";
import { sealLegacyProviderHeaders } from "../../lib/data-plane/providers/credentials";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { sessionCookie } from "../helpers/console-session";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";

const SECRET = "provider-credentials-test-secret-0123456789";
const AZURE_KEY = "azure-key-3f9c1d7e5b";
const TENANT_TOKEN = "tenant-token-8a2b4c6d";
const timeouts = { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 };

let database: Database;
let upstream: OpenAIStandIn;
let cookie: string;

function call(handler: ConsoleRouteHandler, method: string, body?: unknown, params: Record<string, string> = {}) {
  const request = new Request("http://127.0.0.1/api/console/providers", {
    method,
    headers: { cookie, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return handler(request, { params: Promise.resolve(params) });
}

const unique = (name: string) => `${name}-${randomBytes(3).toString("hex")}`;

async function rawRow(id: string) {
  const rows = await database.pool.query<{
    settings: unknown;
    headers_encrypted: string | null;
    header_names: string[];
    api_key_encrypted: string | null;
  }>("SELECT settings, headers_encrypted, header_names, api_key_encrypted FROM providers WHERE id = $1", [id]);
  return rows.rows[0]!;
}

async function providerRow(id: string): Promise<ProviderRow> {
  return await database.prisma.provider.findUniqueOrThrow({ where: { id } });
}

beforeAll(async () => {
  database = createDatabase({ url: inject("databaseUrl"), poolMax: 4 });
  setDatabase(database);
  setConfig(parseConfig({ DATABASE_URL: inject("databaseUrl"), SECRET, NODE_ENV: "test", INSTANCE_ID: "credentials-test" }));
  upstream = await startOpenAIStandIn();
  const admin = await createUser(database.prisma, {
    email: `${unique("admin")}@example.test`,
    role: "admin",
    password: "admin-password-123",
  });
  cookie = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
});
afterAll(async () => {
  await upstream.close();
  await database.close();
});

describe("custom provider headers", () => {
  it("are stored encrypted, shown by name only, kept out of the audit log, and still sent upstream", async () => {
    const created = await call(createProvider, "POST", {
      kind: "openai_compatible",
      name: unique("azure"),
      baseUrl: upstream.url,
      settings: { headers: { "api-key": AZURE_KEY, "x-tenant": TENANT_TOKEN }, timeouts },
      deployments: [{ modelName: unique("m"), upstreamModel: "gpt-4o" }],
    });
    expect(created.status).toBe(201);
    const createdText = await created.text();
    expect(createdText).not.toContain(AZURE_KEY);
    const { provider } = JSON.parse(createdText);
    expect(provider.headerNames).toEqual(["api-key", "x-tenant"]);

    // At rest: the values only inside the sealed column.
    const raw = await rawRow(provider.id);
    expect(JSON.stringify(raw.settings)).not.toContain(AZURE_KEY);
    expect(raw.headers_encrypted).toMatch(/^v1\./);
    expect(raw.headers_encrypted).not.toContain(AZURE_KEY);
    expect(JSON.parse(decryptSecret(raw.headers_encrypted!, SECRET))).toEqual({ "api-key": AZURE_KEY, "x-tenant": TENANT_TOKEN });
    expect(raw.header_names).toEqual(["api-key", "x-tenant"]);

    // An edit that leaves the headers out keeps them; the list never shows them.
    const edited = await call(
      updateProvider,
      "PATCH",
      { settings: { timeouts: { ...timeouts, totalMs: 20_000 } } },
      { id: provider.id },
    );
    expect(edited.status).toBe(200);
    expect((await edited.json()).provider.headerNames).toEqual(["api-key", "x-tenant"]);
    const list = await (await call(listProviders, "GET")).text();
    expect(list).toContain(provider.id);
    expect(list).not.toContain(AZURE_KEY);
    expect(list).not.toContain(TENANT_TOKEN);

    const audit = await database.prisma.auditEntry.findMany({
      where: { targetId: provider.id },
      select: { action: true, before: true, after: true },
    });
    expect(audit.map((e) => e.action).sort()).toEqual(["provider.create", "provider.update"]);
    expect(JSON.stringify(audit)).toContain("api-key");
    expect(JSON.stringify(audit)).not.toContain(AZURE_KEY);
    expect(JSON.stringify(audit)).not.toContain(TENANT_TOKEN);

    // Upstream: the test action's probe and a completion both carry the headers.
    upstream.reset();
    const test = await (await call(testProvider, "POST", {}, { id: provider.id })).json();
    expect(test).toMatchObject({ ok: true, outcome: "ok" });
    const live = createLiveProvider(await providerRow(provider.id), SECRET);
    try {
      await live.client.complete({
        body: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] },
        signal: new Cancellation(),
      });
    } finally {
      await live.client.close();
    }
    expect(upstream.requests.map((r) => r.path)).toEqual(["/v1/models", "/v1/chat/completions"]);
    for (const request of upstream.requests)
      expect(request.headers).toMatchObject({ "api-key": AZURE_KEY, "x-tenant": TENANT_TOKEN });

    // `{}` removes them.
    const cleared = await call(updateProvider, "PATCH", { settings: { headers: {}, timeouts } }, { id: provider.id });
    expect((await cleared.json()).provider.headerNames).toEqual([]);
    expect((await rawRow(provider.id)).headers_encrypted).toBeNull();
  });

  it("written in plaintext by an older version: hidden, still sent, and sealed at start", async () => {
    const name = unique("legacy");
    const row = await database.prisma.provider.create({
      data: { name, kind: "openai_compatible", baseUrl: upstream.url, settings: { headers: { "api-key": AZURE_KEY }, timeouts } },
    });
    const list = await (await call(listProviders, "GET")).json();
    const shown = list.providers.find((p: { id: string }) => p.id === row.id);
    expect(shown.headerNames).toEqual(["api-key"]);
    expect(JSON.stringify(shown)).not.toContain(AZURE_KEY);

    expect(await sealLegacyProviderHeaders(database.prisma, SECRET)).toBeGreaterThanOrEqual(1);
    const raw = await rawRow(row.id);
    expect(JSON.stringify(raw.settings)).not.toContain(AZURE_KEY);
    expect(raw.settings).toEqual({ timeouts });
    expect(JSON.parse(decryptSecret(raw.headers_encrypted!, SECRET))).toEqual({ "api-key": AZURE_KEY });
    expect(await sealLegacyProviderHeaders(database.prisma, SECRET)).toBe(0);

    upstream.reset();
    const test = await (await call(testProvider, "POST", {}, { id: row.id })).json();
    expect(test.ok).toBe(true);
    expect(upstream.requests[0]!.headers["api-key"]).toBe(AZURE_KEY);
  });

  it("recorded in audit entries by earlier versions are hidden by the migration, names kept", async () => {
    const targetId = randomBytes(8).toString("hex");
    const settings = { headers: { "api-key": AZURE_KEY }, timeouts };
    await database.prisma.auditEntry.create({
      data: {
        actorEmail: "old@example.test",
        action: "provider.update",
        targetType: "provider",
        targetId,
        before: { settings },
        after: { settings, name: "x" },
      },
    });
    const sql = await readFile(
      path.join(PROJECT_ROOT, "prisma/migrations/20261204000000_secrets_hardening/migration.sql"),
      "utf8",
    );
    const scrubs = sql
      .split(";")
      .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
      .filter((s) => s.startsWith('UPDATE "audit_log"'));
    expect(scrubs).toHaveLength(2);
    for (const statement of scrubs) await database.pool.query(statement);
    const entry = await database.prisma.auditEntry.findFirstOrThrow({
      where: { targetId },
      select: { before: true, after: true },
    });
    expect(JSON.stringify(entry)).not.toContain(AZURE_KEY);
    expect(entry.after).toEqual({ settings: { headers: { "api-key": "(hidden)" }, timeouts }, name: "x" });
  });
});
