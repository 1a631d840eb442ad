// The console's authorization matrix against a real PostgreSQL database: every route handler
// found under app/api/console × {anonymous, operator, admin, disabled user, cross-origin admin},
// each sending a request that is valid for that route, so that "allowed" means the change or read
// really happens. The expectation table must name every route: a new route file fails here until
// someone says who may use it. Then every state-changing route, sent a valid change by an admin's
// browser from another site, answers 403 and leaves every table as it was.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { savePolicy } from "../../lib/control-plane/scaling/store";
import { createUser } from "../../lib/control-plane/users/users";
import { callConsoleHandler, loadConsoleRoutes, type ConsoleCall, type ConsoleRoute } from "../helpers/console-routes";
import { sessionCookie } from "../helpers/console-session";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
/** The host the test's requests are addressed to (callConsoleHandler's URL). */
const SITE = "http://127.0.0.1";

/** Headers a browser sends with a request from the console's own page, and from another site's. */
const SAME_ORIGIN = { host: "127.0.0.1", origin: SITE, "sec-fetch-site": "same-origin" };
const CROSS_SITE_VARIANTS: Record<string, Record<string, string>> = {
  "a browser's own judgement (Sec-Fetch-Site: cross-site, Origin evil.example)": {
    host: "127.0.0.1",
    origin: "https://evil.example",
    "sec-fetch-site": "cross-site",
  },
  "an older browser's Origin: https://evil.example": { host: "127.0.0.1", origin: "https://evil.example" },
  "Sec-Fetch-Site: cross-site alone": { host: "127.0.0.1", "sec-fetch-site": "cross-site" },
  "a sibling subdomain (Sec-Fetch-Site: same-site)": {
    host: "127.0.0.1",
    origin: "http://evil.127.0.0.1",
    "sec-fetch-site": "same-site",
  },
  "an opaque Origin: null (sandboxed frame)": { host: "127.0.0.1", origin: "null" },
};

let scratch: ScratchDatabase;
let database: Database;
let routes: ConsoleRoute[];
const cookies = { admin: "", operator: "", disabled: "" };
let serial = 0;
const next = () => `${++serial}-${randomBytes(2).toString("hex")}`;

type Request = Omit<ConsoleCall, "cookie" | "method" | "headers">;
interface Expectation {
  /** The least role that may use the route. */
  allows: "operator" | "admin";
  /** The status of a valid request from someone allowed. */
  ok: number;
  /** A valid request (creating what it acts on); a read without one sends nothing. */
  valid?: () => Promise<Request>;
}

const read = (ok = 200): Expectation => ({ allows: "operator", ok });

/** Who may use each route, and a request that route accepts. */
const EXPECTED: Record<string, Expectation> = {
  "GET /api/console/alerts/history": read(),
  "GET /api/console/alerts/rules": read(),
  "PATCH /api/console/alerts/rules/[id]": {
    allows: "admin",
    ok: 200,
    valid: async () => {
      const rule = await database.prisma.alertRule.findFirstOrThrow({ orderBy: { id: "asc" } });
      return { params: { id: rule.id }, body: { forSeconds: (rule.forSeconds + 10) % 3600 } };
    },
  },
  "POST /api/console/alerts/rules/[id]/acknowledge": {
    allows: "operator",
    ok: 200,
    // A firing alert of its own each time, so there is always something to acknowledge.
    valid: async () => {
      const now = new Date();
      await database.prisma.alertState.create({
        data: {
          ruleId: "cpu_high",
          subject: `matrix-${next()}`,
          status: "firing",
          activeSince: now,
          firedAt: now,
          value: 99,
          evaluatedAt: now,
        },
      });
      return { params: { id: "cpu_high" } };
    },
  },
  "PUT /api/console/alerts/rules/[id]/silence": {
    allows: "operator",
    ok: 200,
    valid: async () => ({ params: { id: "latency_p95_high" }, body: { durationSeconds: 3_600 + (serial++ % 600) } }),
  },
  "DELETE /api/console/alerts/rules/[id]/silence": {
    allows: "operator",
    ok: 200,
    valid: async () => {
      await database.prisma.alertRule.update({
        where: { id: "memory_high" },
        data: { silencedUntil: new Date(Date.now() + 3_600_000), silencedBy: "matrix" },
      });
      return { params: { id: "memory_high" } };
    },
  },
  "GET /api/console/audit": read(),
  "GET /api/console/batches": read(),
  "GET /api/console/capacity": read(),
  "PUT /api/console/capacity/schedule": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      body: {
        schedule: [{ users: `matrix ${next()}`, rpsFrom: 0, rpsTo: null, instancesMin: 1, instancesMax: null, notes: "" }],
      },
    }),
  },
  "PUT /api/console/capacity/settings": {
    allows: "admin",
    ok: 200,
    valid: async () => ({ body: { safetyFactor: 1 + (serial++ % 50) / 10, instanceSizeId: null, lookbackDays: 7 } }),
  },
  "PUT /api/console/capacity/sizes": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      body: {
        sizes: [{ id: `size-${next()}`, name: "Matrix", cpuCores: 1, memoryGb: 2, requestsPerSecond: 100, monthlyCostUsd: 10 }],
      },
    }),
  },
  "GET /api/console/instances": read(),
  "GET /api/console/keys": read(),
  "POST /api/console/keys": { allows: "admin", ok: 201, valid: async () => ({ body: { name: `matrix ${next()}` } }) },
  // Body-less: nothing but the cookie and the address says what it does.
  "POST /api/console/keys/[id]/revoke": {
    allows: "admin",
    ok: 200,
    valid: async () => ({ params: { id: (await createApiKey(database.prisma, { name: `to revoke ${next()}` })).record.id } }),
  },
  "PUT /api/console/keys/[id]/capture": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      params: { id: (await createApiKey(database.prisma, { name: `capture ${next()}` })).record.id },
      body: { captureBodies: true },
    }),
  },
  "PUT /api/console/keys/[id]/budget": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      params: { id: (await createApiKey(database.prisma, { name: `budgeted ${next()}` })).record.id },
      body: { budgetDailyUsd: 5, budgetMonthlyUsd: 100, tpmLimit: 10_000 + serial++ },
    }),
  },
  "GET /api/console/overview": read(),
  "GET /api/console/prices": read(),
  "PUT /api/console/prices/[id]": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      params: { id: `matrix-model-${next()}` },
      body: { inputPerMillion: 1 + (serial++ % 9), outputPerMillion: 2, cachedInputPerMillion: null },
    }),
  },
  "DELETE /api/console/prices/[id]": {
    allows: "admin",
    ok: 200,
    valid: async () => {
      const model = `matrix-gone-${next()}`;
      await database.prisma.modelPrice.create({ data: { model, inputPerMillion: 1, outputPerMillion: 1 } });
      return { params: { id: model } };
    },
  },
  "GET /api/console/providers": read(),
  "POST /api/console/providers": {
    allows: "admin",
    ok: 201,
    valid: async () => ({ body: { kind: "simulator", name: `matrix-${next()}` } }),
  },
  "PATCH /api/console/providers/[id]": {
    allows: "admin",
    ok: 200,
    valid: async () => ({ params: { id: (await simulatorProvider()).id }, body: { enabled: false } }),
  },
  // Body-less: deletes a provider that serves nothing (one serving models answers 409).
  "DELETE /api/console/providers/[id]": {
    allows: "admin",
    ok: 200,
    valid: async () => ({ params: { id: (await simulatorProvider()).id } }),
  },
  // Body-less too; it records nothing today, but it reaches out to the provider (a cost, an SSRF lever).
  "POST /api/console/providers/[id]/test": {
    allows: "admin",
    ok: 200,
    valid: async () => ({ params: { id: (await simulatorProvider()).id } }),
  },
  "GET /api/console/providers/health": read(),
  "GET /api/console/requests": read(),
  // A request id nobody used: found empty, which is an answer (the page says "not logged").
  "GET /api/console/requests/[requestId]": {
    allows: "operator",
    ok: 200,
    valid: async () => ({ params: { requestId: `matrix-${next()}` } }),
  },
  "GET /api/console/requests/settings": read(),
  "PUT /api/console/requests/settings": {
    allows: "admin",
    ok: 200,
    valid: async () => ({ body: { sampleRate: (serial++ % 100) / 100, slowMs: 1_000 + serial } }),
  },
  "GET /api/console/scaling": read(),
  "PUT /api/console/scaling/active": {
    allows: "admin",
    ok: 200,
    valid: async () => {
      const policy = await savePolicy(
        database.prisma,
        { name: `switch-${next()}`, spec: PRESETS.conservative },
        { id: null, email: "test-setup" },
      );
      return { body: { name: policy.name, reason: `matrix ${next()}` } };
    },
  },
  "POST /api/console/scaling/policies": {
    allows: "admin",
    ok: 201,
    valid: async () => ({ body: { name: `matrix-${next()}`, spec: { ...PRESETS.balanced, minReplicas: 1 } } }),
  },
  "DELETE /api/console/scaling/policies/[id]": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      params: {
        id: (
          await savePolicy(
            database.prisma,
            { name: `gone-${next()}`, spec: PRESETS.conservative },
            { id: null, email: "test-setup" },
          )
        ).id,
      },
    }),
  },
  "GET /api/console/scaling/simulation": read(),
  "GET /api/console/usage": read(),
  "GET /api/console/usage/export": read(),
  "GET /api/console/users": { allows: "admin", ok: 200 },
  "POST /api/console/users": {
    allows: "admin",
    ok: 201,
    valid: async () => ({ body: { email: `matrix-${next()}@example.test`, role: "operator", password: "matrix-password-1" } }),
  },
  "PATCH /api/console/users/[id]": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      params: {
        id: (
          await createUser(database.prisma, {
            email: `target-${next()}@example.test`,
            role: "operator",
            password: "target-password-1",
          })
        ).id,
      },
      body: { role: "admin" },
    }),
  },
  // Body-less: a new password for another user, shown once.
  "POST /api/console/users/[id]/password": {
    allows: "admin",
    ok: 200,
    valid: async () => ({
      params: {
        id: (
          await createUser(database.prisma, {
            email: `reset-${next()}@example.test`,
            role: "operator",
            password: "target-password-1",
          })
        ).id,
      },
    }),
  },
};

const simulatorProvider = () => createProvider(database.prisma, { kind: "simulator", name: `sim-${next()}` }, SECRET);

const isWrite = (route: ConsoleRoute) => route.method !== "GET";

/** The status each caller must get, from the route's expectation. */
function expectedStatuses(route: ConsoleRoute, expectation: Expectation) {
  return {
    anonymous: 401,
    "disabled user": 401,
    operator: expectation.allows === "operator" ? expectation.ok : 403,
    admin: expectation.ok,
    "cross-origin admin": isWrite(route) ? 403 : expectation.ok,
  };
}
type Caller = keyof ReturnType<typeof expectedStatuses>;

function send(route: ConsoleRoute, caller: Caller, request: Request): Promise<Response> {
  const as: Record<Caller, { cookie?: string; headers: Record<string, string> }> = {
    anonymous: { headers: SAME_ORIGIN },
    "disabled user": { cookie: cookies.disabled, headers: SAME_ORIGIN },
    operator: { cookie: cookies.operator, headers: SAME_ORIGIN },
    admin: { cookie: cookies.admin, headers: SAME_ORIGIN },
    "cross-origin admin": {
      cookie: cookies.admin,
      headers: CROSS_SITE_VARIANTS["a browser's own judgement (Sec-Fetch-Site: cross-site, Origin evil.example)"]!,
    },
  };
  return callConsoleHandler(route.handler, { method: route.method, ...request, ...as[caller] });
}

/** Every application table's rows, compared before and after a refused request. */
async function snapshot(): Promise<string> {
  const tables = await database.prisma.$queryRaw<Array<{ name: string; rows: string }>>`
    SELECT table_name::text AS name, query_to_xml(format('SELECT * FROM %I.%I', table_schema, table_name), false, false, '')::text AS rows
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'
    ORDER BY table_name`;
  expect(tables.length).toBeGreaterThan(5);
  return tables.map((t) => `${t.name}\n${t.rows}`).join("\n");
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_console_authz_${Date.now()}_${randomBytes(3).toString("hex")}`, {
    migrate: true,
  });
  database = createDatabase({ url: scratch.url, poolMax: 4 });
  setDatabase(database);
  setConfig(parseConfig({ DATABASE_URL: scratch.url, SECRET, NODE_ENV: "test", INSTANCE_ID: "console-authz-test" }));
  const admin = await createUser(database.prisma, { email: "admin@example.test", role: "admin", password: "admin-password-123" });
  const operator = await createUser(database.prisma, {
    email: "operator@example.test",
    role: "operator",
    password: "operator-password-123",
  });
  // An admin whose account was disabled after signing in: the cookie is still validly signed.
  const disabled = await createUser(database.prisma, {
    email: "disabled@example.test",
    role: "admin",
    password: "disabled-password-1",
  });
  await database.prisma.user.update({ where: { id: disabled.id }, data: { disabledAt: new Date() } });
  cookies.admin = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
  cookies.operator = await sessionCookie({ id: operator.id, email: operator.email, role: "operator" });
  cookies.disabled = await sessionCookie({ id: disabled.id, email: disabled.email, role: "admin" });
  routes = await loadConsoleRoutes();
});

afterAll(async () => {
  setDatabase(undefined);
  await database?.close();
  await scratch?.drop();
});

describe("the authorization matrix", () => {
  it("names every route file's methods, and nothing else", () => {
    const found = routes.map((r) => r.key).sort();
    expect(found.length).toBeGreaterThanOrEqual(20);
    expect(found, "a route without an expectation (add it to EXPECTED), or an expectation without a route").toEqual(
      Object.keys(EXPECTED).sort(),
    );
  });

  it("gives each caller the expected status on every route", async () => {
    const failures: string[] = [];
    let cells = 0;
    for (const route of routes) {
      const expectation = EXPECTED[route.key];
      if (!expectation) continue; // reported by the test above
      for (const [caller, status] of Object.entries(expectedStatuses(route, expectation)) as Array<[Caller, number]>) {
        const response = await send(route, caller, (await expectation.valid?.()) ?? {});
        cells++;
        if (response.status !== status)
          failures.push(
            `${caller} ${route.key}: ${response.status}, expected ${status} — ${(await response.text()).slice(0, 200)}`,
          );
      }
    }
    expect(cells).toBe(routes.length * 5);
    expect(failures).toEqual([]);
  });

  it("says why in the error code: signed out, missing permission, cross-site", async () => {
    const revoke = routes.find((r) => r.key === "POST /api/console/keys/[id]/revoke")!;
    const request = await EXPECTED[revoke.key]!.valid!();
    expect((await (await send(revoke, "anonymous", request)).json()).error.code).toBe("unauthenticated");
    expect((await (await send(revoke, "disabled user", request)).json()).error.code).toBe("unauthenticated");
    expect((await (await send(revoke, "operator", request)).json()).error.code).toBe("missing_scope");
    expect((await (await send(revoke, "cross-origin admin", request)).json()).error.code).toBe("cross_site_request");
  });
});

describe("a write sent from another site", () => {
  it.each(Object.keys(CROSS_SITE_VARIANTS))(
    "is refused with 403 on every state-changing route, changing nothing: %s",
    async (variant) => {
      const writes = routes.filter(isWrite);
      expect(writes.length).toBeGreaterThanOrEqual(13);
      for (const route of writes) {
        const request = await EXPECTED[route.key]!.valid!();
        const before = await snapshot();
        const refused = await callConsoleHandler(route.handler, {
          method: route.method,
          cookie: cookies.admin,
          ...request,
          headers: CROSS_SITE_VARIANTS[variant]!,
        });
        expect(refused.status, route.key).toBe(403);
        expect((await refused.json()).error.code, route.key).toBe("cross_site_request");
        expect(await snapshot(), `${route.key} changed the database`).toBe(before);
        // The same request from the console's own page goes through: the refusal was the origin's doing.
        const allowed = await callConsoleHandler(route.handler, {
          method: route.method,
          cookie: cookies.admin,
          ...request,
          headers: SAME_ORIGIN,
        });
        expect(allowed.status, `${route.key}: ${await allowed.clone().text()}`).toBe(EXPECTED[route.key]!.ok);
        // …and the snapshot sees a change when there is one.
        if (route.key !== "POST /api/console/providers/[id]/test")
          expect(await snapshot(), `${route.key} changed nothing when allowed`).not.toBe(before);
      }
    },
  );

  it("is allowed from a client that is no browser page (no Origin, no Sec-Fetch-Site), such as curl with a session", async () => {
    const create = routes.find((r) => r.key === "POST /api/console/keys")!;
    const response = await callConsoleHandler(create.handler, {
      method: "POST",
      cookie: cookies.admin,
      ...(await EXPECTED[create.key]!.valid!()),
      headers: { host: "127.0.0.1" },
    });
    expect(response.status).toBe(201);
  });
});
