// Every console route, found from the route files under app/api/console, sent the largest and
// other edge inputs its own zod schemas allow (tests/helpers/edge-inputs.ts), as an admin from the
// console's own page, against a real PostgreSQL database: none may answer 500. Writes go first,
// largest last, so that the reads then show what the largest settings leave behind (a 90-day
// look-back, a 50-row schedule, a 1000-instance policy). A new route is covered without anyone
// listing it; one with route params needs a way to find a real id (IDS below) or fails here.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { savePolicy, seedPolicies } from "../../lib/control-plane/scaling/store";
import { createUser } from "../../lib/control-plane/users/users";
import { callConsoleHandler, loadConsoleRoutes, type ConsoleRoute } from "../helpers/console-routes";
import { sessionCookie } from "../helpers/console-session";
import { edgeInputs, edgeQueries } from "../helpers/edge-inputs";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const SAME_ORIGIN = { host: "127.0.0.1", origin: "http://127.0.0.1", "sec-fetch-site": "same-origin" };

let scratch: ScratchDatabase;
let database: Database;
let routes: ConsoleRoute[];
let adminCookie = "";

/** A real id for each route with an [id] segment: the edge ids alone would only ever find nothing. */
const firstAlertRule = async () => (await database.prisma.alertRule.findFirstOrThrow({ orderBy: { id: "asc" } })).id;

const IDS: Record<string, () => Promise<string>> = {
  "/api/console/alerts/rules/[id]": firstAlertRule,
  "/api/console/alerts/rules/[id]/acknowledge": firstAlertRule,
  "/api/console/alerts/rules/[id]/silence": firstAlertRule,
  "/api/console/scaling/policies/[id]": async () =>
    (
      await savePolicy(
        database.prisma,
        { name: `edge-${randomBytes(3).toString("hex")}`, spec: PRESETS.conservative },
        { id: null, email: "test-setup" },
      )
    ).id,
  "/api/console/users/[id]/password": async () =>
    (
      await createUser(database.prisma, {
        email: `edge-reset-${randomBytes(3).toString("hex")}@example.test`,
        role: "operator",
        password: "edge-target-password",
      })
    ).id,
  "/api/console/keys/[id]/budget": async () =>
    (await createApiKey(database.prisma, { name: `edge ${randomBytes(3).toString("hex")}` })).record.id,
  "/api/console/prices/[id]": async () => `edge-model-${randomBytes(3).toString("hex")}`,
  "/api/console/keys/[id]/revoke": async () =>
    (await createApiKey(database.prisma, { name: `edge ${randomBytes(3).toString("hex")}` })).record.id,
  "/api/console/keys/[id]/capture": async () =>
    (await createApiKey(database.prisma, { name: `edge ${randomBytes(3).toString("hex")}` })).record.id,
  "/api/console/requests/[requestId]": async () => {
    const requestId = `edge-${randomBytes(3).toString("hex")}`;
    await database.pool.query(
      `INSERT INTO request_log (at, request_id, instance_id, endpoint, status, kept_because, duration_ms, request_body) VALUES (now(), $1, 'edge', 'chat', 502, 'error', 1, '{}')`,
      [requestId],
    );
    return requestId;
  },
  "/api/console/providers/[id]": async () => (await loopbackProvider()).id,
  "/api/console/providers/[id]/test": async () => (await loopbackProvider()).id,
  "/api/console/users/[id]": async () =>
    (
      await createUser(database.prisma, {
        email: `edge-target-${randomBytes(3).toString("hex")}@example.test`,
        role: "operator",
        password: "edge-target-password",
      })
    ).id,
};

/** An OpenAI-compatible provider at a loopback port where nothing listens. */
const loopbackProvider = () =>
  createProvider(
    database.prisma,
    { kind: "openai_compatible", name: `edge-${randomBytes(3).toString("hex")}`, baseUrl: "http://127.0.0.1:9" },
    SECRET,
  );

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_console_edges_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 4 });
  setDatabase(database);
  setConfig(parseConfig({ DATABASE_URL: scratch.url, SECRET, NODE_ENV: "test", INSTANCE_ID: "console-edges-test" }));
  await seedPolicies(database.prisma);
  const admin = await createUser(database.prisma, { email: "admin@edges.test", role: "admin", password: "admin-password-123" });
  adminCookie = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
  routes = await loadConsoleRoutes();
});

afterAll(async () => {
  setDatabase(undefined);
  await database?.close();
  await scratch?.drop();
});

interface Outcome {
  route: string;
  input: string;
  status: number;
  body: string;
}

async function send(
  route: ConsoleRoute,
  request: { query?: string; body?: unknown; params?: Record<string, string> },
): Promise<Outcome> {
  const response = await callConsoleHandler(route.handler, {
    method: route.method,
    cookie: adminCookie,
    headers: SAME_ORIGIN,
    ...request,
  });
  const body = await response.text();
  return { route: route.key, input: JSON.stringify(request).slice(0, 300), status: response.status, body: body.slice(0, 300) };
}

/** Each route's param sets: a real one, then the schema's own edges (which may find nothing: 404, never 500). */
async function paramSets(route: ConsoleRoute): Promise<Array<Record<string, string> | undefined>> {
  const schema = route.handler.inputs.params;
  if (!schema) return [undefined];
  const real = IDS[route.route];
  if (!real) throw new Error(`${route.key} takes route params: add to IDS how to find a real one`);
  const name = /\[(\w+)\]/.exec(route.route)?.[1] ?? "id";
  return [{ [name]: await real() }, ...(edgeInputs(schema) as Array<Record<string, string>>)];
}

describe("every console route with its largest allowed inputs", () => {
  it("finds candidates each schema accepts", () => {
    for (const route of routes) {
      const { query, body, params } = route.handler.inputs;
      if (body) expect(edgeInputs(body).length, `${route.key}: no edge body its schema accepts`).toBeGreaterThan(0);
      if (query) expect(edgeQueries(query).length, `${route.key}: no edge query its schema accepts`).toBeGreaterThan(0);
      if (params) expect(edgeInputs(params).length, `${route.key}: no edge params its schema accepts`).toBeGreaterThan(0);
    }
  });

  it("answers without a 500, writes first (largest last), then every read", { timeout: 120_000 }, async () => {
    const outcomes: Outcome[] = [];
    const writes = routes.filter((r) => r.method !== "GET");
    const reads = routes.filter((r) => r.method === "GET");
    expect(writes.length).toBeGreaterThan(5);
    expect(reads.length).toBeGreaterThan(5);
    for (const route of writes) {
      const bodies = route.handler.inputs.body ? edgeInputs(route.handler.inputs.body).reverse() : [undefined];
      const [real, ...edges] = await paramSets(route);
      for (const body of bodies) outcomes.push(await send(route, { body, params: real }));
      // The schema's edge ids with the largest body.
      for (const params of edges) outcomes.push(await send(route, { body: bodies.at(-1), params }));
    }
    // The edge policy names above name no policy: switch to the largest one saved, so the reads show it.
    const largest = await database.prisma.scalingPolicy.findFirstOrThrow({
      where: { preset: false },
      orderBy: { updatedAt: "desc" },
    });
    const activate = routes.find((r) => r.key === "PUT /api/console/scaling/active")!;
    const switched = await send(activate, { body: { name: largest.name, reason: "r".repeat(500) } });
    expect(switched.status, switched.body).toBe(200);
    outcomes.push(switched);
    for (const route of reads) {
      const queries = route.handler.inputs.query ? edgeQueries(route.handler.inputs.query) : [""];
      const [real, ...edges] = await paramSets(route);
      for (const query of queries) outcomes.push(await send(route, { query, params: real }));
      for (const params of edges) outcomes.push(await send(route, { params }));
    }
    const failures = outcomes.filter((o) => o.status >= 500);
    expect(failures, JSON.stringify(failures, null, 2)).toEqual([]);
    // Every route was called, and the reads, the capacity page's included, were answered.
    expect(new Set(outcomes.map((o) => o.route))).toEqual(new Set(routes.map((r) => r.key)));
    for (const route of reads)
      expect(outcomes.filter((o) => o.route === route.key && o.status === 200).length, route.key).toBeGreaterThan(0);
    // The largest settings were really stored (the reads above ran with them).
    const settings = await database.prisma.capacitySettings.findUniqueOrThrow({ where: { id: 1 } });
    expect(settings.lookbackDays).toBe(90);
    expect(await database.prisma.scalingScheduleEntry.count()).toBe(50);
  });
});
