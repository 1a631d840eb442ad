// The console against a hostile browser, on the real server with the console build:
//  - every console response carries the security headers; pages a nonce-based CSP whose nonce is
//    on every script Next.js writes, and Chromium runs the console under it without a violation;
//  - another site cannot frame the console;
//  - sign-in sends the browser only to this site, whatever callbackUrl says, in the form and in
//    the server's redirect of a signed-in visitor; unknown ?error= text is not shown;
//  - a write sent from another site is refused through the real server.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SHOTS = path.join(PROJECT_ROOT, "test-results");
const ADMIN = { email: `security-admin-${randomBytes(4).toString("hex")}@example.test`, password: "security-admin-password-1" };

let database: Database;
let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  database = createDatabase({ url: inject("databaseUrl"), poolMax: 1 });
  await createUser(database.prisma, { ...ADMIN, role: "admin" });
  server = await startServer({ env: { DATABASE_URL: inject("databaseUrl"), DRAIN_TIMEOUT_MS: "3000", SEED_SIMULATOR: "true" } });
  browser = await launchChromium();
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.close();
});

/** Directive name → its sources. */
function parsePolicy(header: string | null): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? "").split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name, sources);
  }
  return directives;
}

/** A browser context that records every CSP violation its pages report. */
async function watchedContext(): Promise<{ context: BrowserContext; violations: string[]; watch: (page: Page) => void }> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const violations: string[] = [];
  await context.exposeBinding("__reportViolation", (_source, text: string) => void violations.push(text));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportViolation(text: string): void }).__reportViolation(
        `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`,
      );
    });
  });
  const watch = (page: Page) => {
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
  };
  return { context, violations, watch };
}

describe("response headers", () => {
  it("a console page: nonce-based CSP that forbids framing, and the other headers", async () => {
    const response = await fetch(`${server.url}/login`);
    expect(response.status).toBe(200);
    const html = await response.text();
    const policy = parsePolicy(response.headers.get("content-security-policy"));
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
    const scripts = policy.get("script-src") ?? [];
    expect(scripts).not.toContain("'unsafe-inline'");
    expect(scripts).not.toContain("'unsafe-eval'");
    const nonce = scripts.find((s) => s.startsWith("'nonce-"))?.slice(7, -1);
    expect(nonce, "script-src has a nonce").toMatch(/^[A-Za-z0-9+/]{22}==$/);
    // Every script Next.js wrote (inline payload and chunk tags alike) carries this response's nonce.
    const tags = html.match(/<script\b[^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThan(3);
    for (const tag of tags) expect(tag, tag).toContain(`nonce="${nonce}"`);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("same-origin");
    // Served over plain http here: no HSTS.
    expect(response.headers.get("strict-transport-security")).toBeNull();

    const again = await fetch(`${server.url}/login`);
    await again.arrayBuffer();
    expect(again.headers.get("content-security-policy")).not.toBe(response.headers.get("content-security-policy"));
  });

  it("the not-found page is rendered with the nonce too (a prerendered page would have none)", async () => {
    const response = await fetch(`${server.url}/no-such-page`);
    expect(response.status).toBe(404);
    const html = await response.text();
    const nonce = parsePolicy(response.headers.get("content-security-policy"))
      .get("script-src")
      ?.find((s) => s.startsWith("'nonce-"))
      ?.slice(7, -1);
    const tags = html.match(/<script\b[^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThan(0);
    for (const tag of tags) expect(tag, tag).toContain(`nonce="${nonce}"`);
  });

  it("HSTS when the console is served over https (a TLS-terminating proxy says so)", async () => {
    const response = await fetch(`${server.url}/login`, { headers: { "x-forwarded-proto": "https" } });
    await response.arrayBuffer();
    expect(response.headers.get("strict-transport-security")).toMatch(/^max-age=\d{7,}/);
  });

  it("console JSON and next-auth's endpoints: nosniff and no framing too", async () => {
    for (const route of ["/api/console/overview", "/api/auth/csrf"]) {
      const response = await fetch(server.url + route);
      await response.arrayBuffer();
      expect(response.headers.get("x-content-type-options"), route).toBe("nosniff");
      expect(response.headers.get("x-frame-options"), route).toBe("DENY");
    }
  });

  it("a page ignores a policy the client sent, so it cannot choose the nonce", async () => {
    const response = await fetch(`${server.url}/login`, {
      headers: { "content-security-policy": "script-src 'nonce-AAAAAAAAAAAAAAAAAAAAAA=='" },
    });
    const html = await response.text();
    expect(html).not.toContain("AAAAAAAAAAAAAAAAAAAAAA==");
    expect(response.headers.get("content-security-policy")).not.toContain("AAAAAAAAAAAAAAAAAAAAAA==");
  });
});

describe("in Chromium, under the policy", () => {
  it("the login page, the form, next-auth's client and the overview's charts work with no violation", async () => {
    const { context, violations, watch } = await watchedContext();
    try {
      const page = await context.newPage();
      watch(page);
      page.setDefaultTimeout(20_000);
      await page.goto(`${server.url}/login`, { waitUntil: "load" });
      await page.screenshot({ path: path.join(SHOTS, "console-login-csp.png") });
      await signIn(page, server.url, ADMIN.email, ADMIN.password);
      await page.locator('[data-testid="chart-rps"][data-state="ready"]').waitFor();
      await page.screenshot({ path: path.join(SHOTS, "console-overview-csp.png"), fullPage: true });
      await page.goto(`${server.url}/scaling`);
      await page.getByRole("heading", { name: "Scaling" }).waitFor();
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("another site cannot frame the console", async () => {
    const context = await browser.newContext();
    let framer: Server | undefined;
    try {
      const page = await context.newPage();
      // The framing page, served from another origin on loopback (a page Playwright made up
      // would count as public, and Chromium's local network checks would stop it first). It
      // also frames the data plane's /health/live, which sends no policy: an allowed frame loads.
      const html = `<iframe name="console" src="${server.url}/login"></iframe><iframe name="health" src="${server.url}/health/live"></iframe>`;
      framer = createServer((_request, response) => response.writeHead(200, { "content-type": "text/html" }).end(html));
      await new Promise<void>((resolve) => framer!.listen(0, "127.0.0.1", resolve));
      await page.goto(`http://127.0.0.1:${(framer.address() as AddressInfo).port}/`, { waitUntil: "load" });
      const health = page.frame({ name: "health" })!;
      await expect(health.locator("body").textContent()).resolves.toMatch(/ok|live/i);
      const console = page.frame({ name: "console" })!;
      expect(console.url()).not.toBe(`${server.url}/login`);
      await expect(console.locator("form[aria-label='Sign in']").count()).resolves.toBe(0);
    } finally {
      await context.close();
      await new Promise((resolve) => (framer ? framer.close(resolve) : resolve(undefined)));
    }
  });
});

describe("after sign-in, the browser stays on this site", () => {
  // As they arrive in the address bar: the query string encodes what the page decodes once.
  const HOSTILE = [
    "%2F%09%2Fevil.example",
    "%2F%5Cevil.example",
    "%2F%2Fevil.example",
    "https%3A%2F%2Fevil.example",
    "%2F%0A%2Fevil.example",
    "%09%2F%2Fevil.example",
    "%5C%5Cevil.example",
    "https:evil.example",
  ];

  it.each(HOSTILE)("signing in through the form with callbackUrl=%s lands on the console", async (callbackUrl) => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      // Had the browser left for evil.example, it would land here (nothing leaves the machine).
      let leftForEvil = false;
      await context.route(
        (url) => url.hostname.endsWith("evil.example"),
        (route) => {
          leftForEvil = true;
          return route.fulfill({ contentType: "text/html", body: "<h1>evil</h1>" });
        },
      );
      await page.goto(`${server.url}/login?callbackUrl=${callbackUrl}`, { waitUntil: "load" });
      await page.getByLabel("Email").fill(ADMIN.email);
      await page.getByLabel("Password").fill(ADMIN.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL((url) => !url.pathname.startsWith("/login"));
      await page.waitForLoadState("load");
      expect(leftForEvil).toBe(false);
      expect(new URL(page.url()).origin).toBe(server.url);
    } finally {
      await context.close();
    }
  });

  it.each(HOSTILE)("a signed-in visitor to /login?callbackUrl=%s is redirected on this site", async (callbackUrl) => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, server.url, ADMIN.email, ADMIN.password);
      const response = await page.request.get(`${server.url}/login?callbackUrl=${callbackUrl}`, { maxRedirects: 0 });
      expect(response.status()).toBeGreaterThanOrEqual(300);
      expect(response.status()).toBeLessThan(400);
      const location = response.headers()["location"] ?? "";
      expect(new URL(location, server.url).origin, location).toBe(server.url);
      expect(location).not.toMatch(/evil/);
    } finally {
      await context.close();
    }
  });

  it("an unknown ?error= is not shown as written; next-auth's codes are explained", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${server.url}/login?error=${encodeURIComponent("Your account is locked. Call +1 555 0100 now.")}`);
      const alert = page.locator('form[aria-label="Sign in"] [role="alert"]');
      await expect(alert.textContent()).resolves.toBe("Sign-in failed. Try again.");
      expect(await page.content()).not.toContain("555 0100");
      await page.goto(`${server.url}/login?error=CredentialsSignin`);
      await expect(alert.textContent()).resolves.toBe("Incorrect email or password.");
    } finally {
      await context.close();
    }
  });
});

describe("a write from another site, through the real server", () => {
  it("is refused (403) and the key stays live; the console's own page may do it", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await signIn(page, server.url, ADMIN.email, ADMIN.password);
      const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
      const { record } = await createApiKey(database.prisma, { name: `csrf-${randomBytes(3).toString("hex")}` });
      const revoke = (headers: Record<string, string>) =>
        fetch(`${server.url}/api/console/keys/${record.id}/revoke`, { method: "POST", headers: { cookie, ...headers } });

      const crossSite: Array<Record<string, string>> = [
        { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
        { origin: "https://evil.example" },
        { "sec-fetch-site": "same-site" },
      ];
      for (const headers of crossSite) {
        const refused = await revoke(headers);
        expect(refused.status, JSON.stringify(headers)).toBe(403);
        expect((await refused.json()).error.code).toBe("cross_site_request");
        expect((await database.prisma.apiKey.findUniqueOrThrow({ where: { id: record.id } })).revokedAt).toBeNull();
      }
      // next-auth's own POSTs too.
      const signOut = await fetch(`${server.url}/api/auth/signout`, {
        method: "POST",
        headers: { cookie, origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
        body: "",
      });
      expect(signOut.status).toBe(403);

      const allowed = await revoke({ origin: server.url, "sec-fetch-site": "same-origin" });
      expect(allowed.status).toBe(200);
      expect((await database.prisma.apiKey.findUniqueOrThrow({ where: { id: record.id } })).revokedAt).not.toBeNull();
    } finally {
      await context.close();
    }
  });
});
