// The upstream address policy (lib/platform/net/address-policy.ts) against real PostgreSQL, real loopback
// servers and the console's route handlers: link-local and metadata addresses refused at save
// and at connect (after DNS resolution: a stand-in resolver plays the DNS, so a name can resolve
// to 169.254.169.254 or change its answer), private ranges allowed unless UPSTREAM_DENY_PRIVATE,
// webhook redirects not followed, and the provider test reporting fixed outcomes only.
import { randomBytes } from "node:crypto";
import type { LookupAddress } from "node:dns";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WebhookSender, type AlertNotification } from "../../lib/control-plane/alerts/webhook";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { updateAlertRuleHandler } from "../../lib/control-plane/console/alerts";
import type { ConsoleRouteHandler } from "../../lib/control-plane/console/handler";
import { createProvider, testProvider, updateProvider } from "../../lib/control-plane/console/providers";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { AddressRefused, type AddressPolicy, classifyAddress, systemResolver } from "../../lib/platform/net/address-policy";
import { assertUpstreamUrlAllowed } from "../../lib/platform/net/upstream-url";
import { Cancellation } from "../../lib/data-plane/providers/cancellation";
import { OpenAICompatibleProvider } from "../../lib/data-plane/providers/openai-compatible";
import { type UpstreamFailure } from "../../lib/data-plane/providers/types";
import { createUser } from "../../lib/control-plane/users/users";
import { sessionCookie } from "../helpers/console-session";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";

const SECRET = "address-policy-test-secret-0123456789abcdef";
const timeouts = { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 };
const baseEnv = { DATABASE_URL: "", SECRET, NODE_ENV: "test", INSTANCE_ID: "policy-test" };

let database: Database;
let upstream: OpenAIStandIn;
let cookie: string;
const servers: Server[] = [];

const unique = (name: string) => `${name}-${randomBytes(3).toString("hex")}`;

function call(handler: ConsoleRouteHandler, method: string, body?: unknown, params: Record<string, string> = {}) {
  const request = new Request("http://127.0.0.1/api/console/x", {
    method,
    headers: { cookie, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return handler(request, { params: Promise.resolve(params) });
}

/** A stand-in DNS: answers from a table the test changes, and counts the questions. */
function standInResolver(table: Record<string, string>) {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const address = table[hostname];
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return [{ address, family: address.includes(":") ? 6 : 4 }];
  };
  return { table, asked, resolve };
}

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    handler!(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

async function completionFailure(baseUrl: string, policy: AddressPolicy): Promise<UpstreamFailure> {
  const client = new OpenAICompatibleProvider({ baseUrl, timeouts, addressPolicy: policy });
  try {
    await client.complete({ body: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }, signal: new Cancellation() });
  } catch (error) {
    return error as UpstreamFailure;
  } finally {
    await client.close();
  }
  throw new Error("the call succeeded");
}

beforeAll(async () => {
  database = createDatabase({ url: inject("databaseUrl"), poolMax: 4 });
  setDatabase(database);
  setConfig(parseConfig({ ...baseEnv, DATABASE_URL: inject("databaseUrl") }));
  upstream = await startOpenAIStandIn();
  const admin = await createUser(database.prisma, {
    email: `${unique("admin")}@example.test`,
    role: "admin",
    password: "admin-password-123",
  });
  cookie = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
});
afterAll(async () => {
  setConfig(parseConfig({ ...baseEnv, DATABASE_URL: inject("databaseUrl") }));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await upstream.close();
  await database.close();
});

describe("classifyAddress", () => {
  it("refuses link-local, metadata and unspecified addresses in every spelling; private and loopback are private", () => {
    for (const address of [
      "169.254.169.254",
      "169.254.0.1",
      "::ffff:169.254.169.254",
      "::ffff:a9fe:a9fe",
      "fe80::1",
      "fe80::1%eth0",
      "febf::1",
      "fd00:ec2::254",
      "0.0.0.0",
      "::",
      "::ffff:0.0.0.0",
    ]) {
      expect([address, classifyAddress(address)]).toEqual([address, "forbidden"]);
    }
    for (const address of [
      "127.0.0.1",
      "::1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "fd12::1",
      "::ffff:127.0.0.1",
      "100.64.0.1",
    ]) {
      expect([address, classifyAddress(address)]).toEqual([address, "private"]);
    }
    for (const address of ["8.8.8.8", "2606:4700::1111", "172.32.0.1"])
      expect([address, classifyAddress(address)]).toEqual([address, "public"]);
  });
});

describe("at save time", () => {
  it("refuses a provider base URL at a metadata or link-local address with a 400 naming the field", async () => {
    for (const baseUrl of [
      "http://169.254.169.254/v1",
      "http://[fe80::1]:8080/v1",
      "http://[::ffff:169.254.169.254]/v1",
      "http://0.0.0.0:8080/v1",
    ]) {
      const response = await call(createProvider, "POST", { kind: "openai_compatible", name: unique("bad"), baseUrl });
      expect([baseUrl, response.status]).toEqual([baseUrl, 400]);
      const { error } = await response.json();
      expect(error).toMatchObject({ param: "baseUrl", code: "upstream_address_refused" });
      expect(error.message).toMatch(/^baseUrl: .* link-local or cloud metadata address/);
    }
    const created = await call(createProvider, "POST", {
      kind: "openai_compatible",
      name: unique("good"),
      baseUrl: upstream.url,
    });
    expect(created.status).toBe(201);
    const { provider } = await created.json();
    const patched = await call(updateProvider, "PATCH", { baseUrl: "http://169.254.169.254/latest" }, { id: provider.id });
    expect(patched.status).toBe(400);
    expect((await patched.json()).error.param).toBe("baseUrl");
  });

  it("refuses a host name that resolves to a metadata address", async () => {
    const dns = standInResolver({ "metadata.internal.test": "169.254.169.254", "models.internal.test": "10.0.0.7" });
    const policy = { denyPrivate: false, resolve: dns.resolve };
    await expect(assertUpstreamUrlAllowed("http://metadata.internal.test/v1", "baseUrl", policy)).rejects.toMatchObject({
      status: 400,
      param: "baseUrl",
    });
    await expect(assertUpstreamUrlAllowed("http://models.internal.test/v1", "baseUrl", policy)).resolves.toBeUndefined();
    expect(dns.asked).toEqual(["metadata.internal.test", "models.internal.test"]);
  });

  it("refuses an alert webhook at a metadata address", async () => {
    const rule = await database.prisma.alertRule.findFirstOrThrow();
    const response = await call(updateAlertRuleHandler, "PATCH", { webhookUrl: "http://169.254.169.254/hook" }, { id: rule.id });
    expect(response.status).toBe(400);
    expect((await response.json()).error.param).toBe("webhookUrl");
  });

  it("allows loopback and private upstreams by default, and refuses them with UPSTREAM_DENY_PRIVATE", async () => {
    const localhostUrl = upstream.url.replace("127.0.0.1", "localhost");
    expect(
      (await call(createProvider, "POST", { kind: "openai_compatible", name: unique("local"), baseUrl: localhostUrl })).status,
    ).toBe(201);
    setConfig(parseConfig({ ...baseEnv, DATABASE_URL: inject("databaseUrl"), UPSTREAM_DENY_PRIVATE: "true" }));
    try {
      for (const baseUrl of [localhostUrl, upstream.url, "http://10.1.2.3/v1"]) {
        const response = await call(createProvider, "POST", { kind: "openai_compatible", name: unique("private"), baseUrl });
        expect([baseUrl, response.status]).toEqual([baseUrl, 400]);
        expect((await response.json()).error.message).toMatch(/loopback or private address, which UPSTREAM_DENY_PRIVATE refuses/);
      }
    } finally {
      setConfig(parseConfig({ ...baseEnv, DATABASE_URL: inject("databaseUrl") }));
    }
  });
});

describe("at connect time", () => {
  it("refuses literal metadata and link-local addresses without connecting", async () => {
    const policy = { denyPrivate: false, resolve: systemResolver };
    for (const baseUrl of ["http://169.254.169.254/v1", "http://[fe80::1]:9/v1", "http://[::ffff:169.254.169.254]/v1"]) {
      const failure = await completionFailure(baseUrl, policy);
      expect([baseUrl, failure.reason, failure.message]).toEqual([baseUrl, "connect", "upstream address refused by policy"]);
      expect(failure.cause).toBeInstanceOf(AddressRefused);
    }
  });

  it("checks each new connection's DNS answer: a name that starts resolving to the metadata address is refused", async () => {
    const port = new URL(upstream.url).port;
    const dns = standInResolver({ "models.rebind.test": "127.0.0.1" });
    const policy = { denyPrivate: false, resolve: dns.resolve };
    const baseUrl = `http://models.rebind.test:${port}/v1`;
    await assertUpstreamUrlAllowed(baseUrl, "baseUrl", policy); // passes the save-time check

    upstream.reset();
    const client = new OpenAICompatibleProvider({ baseUrl, timeouts, addressPolicy: policy });
    await client.complete({ body: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }, signal: new Cancellation() });
    await client.close();
    expect(upstream.requests).toHaveLength(1);

    dns.table["models.rebind.test"] = "169.254.169.254";
    const failure = await completionFailure(baseUrl, policy);
    expect(failure.message).toBe("upstream address refused by policy");
    expect(dns.asked.filter((h) => h === "models.rebind.test").length).toBeGreaterThanOrEqual(3);
    expect(upstream.requests).toHaveLength(1);
  });

  it("refuses private addresses when the policy denies them, and connects when it does not", async () => {
    const failure = await completionFailure(upstream.url, { denyPrivate: true, resolve: systemResolver });
    expect(failure.message).toBe("upstream address refused by policy");
    const client = new OpenAICompatibleProvider({
      baseUrl: upstream.url,
      timeouts,
      addressPolicy: { denyPrivate: false, resolve: systemResolver },
    });
    await expect(
      client.complete({ body: { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }, signal: new Cancellation() }),
    ).resolves.toBeTruthy();
    await client.close();
  });
});

describe("alert webhooks", () => {
  const notification: AlertNotification = {
    rule: { id: "r", name: "r", severity: "warning", metric: "cpu_percent", comparison: "above", threshold: 1, forSeconds: 0 },
    subject: "fleet",
    state: "firing",
    value: 2,
    at: new Date().toISOString(),
    source: "postgres",
  };

  it("do not follow a redirect, and say so in the log", async () => {
    const target = await listen((_req, res) => res.end("stolen"));
    const redirecting = await listen((_req, res) => {
      res.writeHead(302, { location: `${target.url}/latest/meta-data` });
      res.end();
    });
    const lines: string[] = [];
    const sender = new WebhookSender(pino({ level: "warn" }, { write: (line: string) => lines.push(line) }), {
      denyPrivate: false,
      resolve: systemResolver,
    });
    sender.send(`${redirecting.url}/hook`, notification);
    await sender.idle();
    await sender.close();
    expect(redirecting.hits()).toBe(1);
    expect(target.hits()).toBe(0);
    expect(lines.join("")).toContain("redirect, which is not followed");
  });

  it("are refused at connect time when the address is not allowed", async () => {
    const receiver = await listen((_req, res) => res.end());
    const lines: string[] = [];
    const sender = new WebhookSender(pino({ level: "warn" }, { write: (line: string) => lines.push(line) }), {
      denyPrivate: true,
      resolve: systemResolver,
    });
    sender.send(`${receiver.url}/hook`, notification);
    await sender.idle();
    await sender.close();
    expect(receiver.hits()).toBe(0);
    expect(lines.join("")).toContain("UPSTREAM_DENY_PRIVATE refuses");
  });
});

describe("the provider test action", () => {
  async function providerAt(baseUrl: string): Promise<string> {
    // Written directly, as a row saved before the policy existed would be.
    const row = await database.prisma.provider.create({
      data: { name: unique("probe"), kind: "openai_compatible", baseUrl, settings: { timeouts } },
    });
    return row.id;
  }

  it("answers with fixed outcomes, never the underlying error's text", async () => {
    const closedPort = await listen(() => {});
    const closedUrl = closedPort.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const failing = await listen((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "internal detail 7f3a from the upstream", type: "server_error" } }));
    });

    const results = {
      refused: await (await call(testProvider, "POST", {}, { id: await providerAt("http://169.254.169.254/v1") })).json(),
      unreachable: await (await call(testProvider, "POST", {}, { id: await providerAt(`${closedUrl}/v1`) })).json(),
      status: await (await call(testProvider, "POST", {}, { id: await providerAt(`${failing.url}/v1`) })).json(),
      ok: await (await call(testProvider, "POST", {}, { id: await providerAt(upstream.url) })).json(),
    };
    expect(results.refused).toMatchObject({
      ok: false,
      outcome: "refused_by_policy",
      status: null,
      error: "The base URL's address is refused by the upstream address policy.",
    });
    expect(results.unreachable).toMatchObject({
      ok: false,
      outcome: "could_not_connect",
      status: null,
      error: "Could not connect to the upstream.",
    });
    expect(results.status).toMatchObject({
      ok: false,
      outcome: "upstream_status",
      status: 500,
      error: "The upstream answered HTTP 500.",
    });
    expect(results.ok).toMatchObject({ ok: true, outcome: "ok", status: null, error: null });
    const text = JSON.stringify(results);
    for (const raw of ["ECONNREFUSED", "internal detail", "169.254", "127.0.0.1"]) expect(text).not.toContain(raw);
  });
});
