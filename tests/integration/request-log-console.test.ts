// The request log's console API against a real PostgreSQL database: filters (key, model, status,
// time) and paging, one request by its id, and captured bodies only for requests.bodies (admins):
// an operator's answer leaves them out, lists never carry them.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { getRequest, listRequests } from "../../lib/control-plane/console/requests";
import { createUser } from "../../lib/control-plane/users/users";
import { callConsoleHandler } from "../helpers/console-routes";
import { sessionCookie } from "../helpers/console-session";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const SAME_ORIGIN = { host: "127.0.0.1", origin: "http://127.0.0.1", "sec-fetch-site": "same-origin" };
let scratch: ScratchDatabase;
let database: Database;
const cookies = { admin: "", operator: "" };
const keyA = randomUUID();
const keyB = randomUUID();

async function insert(row: {
  requestId: string;
  keyId: string;
  model: string;
  status: number;
  minutesAgo: number;
  body?: string;
}) {
  await database.pool.query(
    `INSERT INTO request_log (at, request_id, instance_id, key_id, key_name, endpoint, model, status, kept_because, duration_ms, attempts, request_body, response_body)
     VALUES (now() - $1 * interval '1 minute', $2, 'i-1', $3, 'k', 'chat', $4, $5, $6, 12.5, '[{"deployment":"p/m","provider":"p","outcome":"ok","status":null,"latencyMs":10}]', $7, $7)`,
    [row.minutesAgo, row.requestId, row.keyId, row.model, row.status, row.status >= 400 ? "error" : "sampled", row.body ?? null],
  );
}

const get = async (
  handler: typeof listRequests,
  cookie: string,
  options: { query?: string; params?: Record<string, string> } = {},
) => {
  const response = await callConsoleHandler(handler, { cookie, headers: SAME_ORIGIN, ...options });
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json();
};

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_request_log_console_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 3 });
  setDatabase(database);
  setConfig(
    parseConfig({ DATABASE_URL: scratch.url, SECRET: "s".repeat(32), NODE_ENV: "test", INSTANCE_ID: "request-log-console-test" }),
  );
  const admin = await createUser(database.prisma, { email: "admin@rl.test", role: "admin", password: "admin-password-123" });
  const operator = await createUser(database.prisma, {
    email: "operator@rl.test",
    role: "operator",
    password: "operator-password-123",
  });
  cookies.admin = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
  cookies.operator = await sessionCookie({ id: operator.id, email: operator.email, role: "operator" });
  for (let i = 0; i < 30; i++)
    await insert({
      requestId: `ok-${i}`,
      keyId: i % 2 ? keyA : keyB,
      model: i % 3 ? "m-1" : "m-2",
      status: 200,
      minutesAgo: 60 - i,
    });
  await insert({ requestId: "failed-1", keyId: keyA, model: "m-1", status: 502, minutesAgo: 5, body: '{"secret prompt":true}' });
  await insert({ requestId: "limited-1", keyId: keyB, model: "m-2", status: 429, minutesAgo: 4 });
});

afterAll(async () => {
  setDatabase(undefined);
  await database?.close();
  await scratch?.drop();
});

describe("the request log's console API", () => {
  it("filters by key, model, status and time, newest first, in pages", async () => {
    const ids = (body: { entries: Array<{ requestId: string }> }) => body.entries.map((e) => e.requestId);
    expect(ids(await get(listRequests, cookies.operator, { query: "?status=error" }))).toEqual(["limited-1", "failed-1"]);
    expect(ids(await get(listRequests, cookies.operator, { query: "?status=5xx" }))).toEqual(["failed-1"]);
    expect(ids(await get(listRequests, cookies.operator, { query: "?status=429" }))).toEqual(["limited-1"]);
    expect(ids(await get(listRequests, cookies.operator, { query: `?keyId=${keyA}&model=m-1&status=2xx` }))).toEqual(
      [29, 25, 23, 19, 17, 13, 11, 7, 5, 1].map((i) => `ok-${i}`),
    );
    const from = new Date(Date.now() - 35.5 * 60_000).toISOString();
    const to = new Date(Date.now() - 29.5 * 60_000).toISOString();
    expect(ids(await get(listRequests, cookies.operator, { query: `?from=${from}&to=${to}` }))).toEqual([
      "ok-29",
      "ok-28",
      "ok-27",
      "ok-26",
      "ok-25",
    ]);
    const first = await get(listRequests, cookies.operator, { query: "?limit=20" });
    const second = await get(listRequests, cookies.operator, { query: `?limit=20&before=${first.nextBefore}` });
    expect(first.entries).toHaveLength(20);
    expect(second.entries).toHaveLength(12);
    expect(second.nextBefore).toBeNull();
    expect(new Set([...ids(first), ...ids(second)]).size).toBe(32);
    expect(first.entries.find((e: { requestId: string }) => e.requestId === "failed-1").captured).toBe(true);
    expect(first.entries.find((e: { requestId: string }) => e.requestId === "ok-29").captured).toBe(false);
    // Lists never carry bodies, for anyone.
    const admins = await get(listRequests, cookies.admin, { query: "?status=5xx" });
    expect(admins.entries[0]).toMatchObject({
      requestId: "failed-1",
      captured: true,
      attempts: [{ deployment: "p/m", outcome: "ok" }],
    });
    expect(JSON.stringify(admins)).not.toContain("secret prompt");
  });

  it("answers a request id with its entries; bodies only for admins", async () => {
    const operator = await get(getRequest, cookies.operator, { params: { requestId: "failed-1" } });
    expect(operator.entries).toHaveLength(1);
    expect(operator.entries[0]).toMatchObject({ status: 502, captured: true, bodies: null });
    expect(JSON.stringify(operator)).not.toContain("secret prompt");
    const admin = await get(getRequest, cookies.admin, { params: { requestId: "failed-1" } });
    expect(admin.entries[0].bodies).toEqual({ request: '{"secret prompt":true}', response: '{"secret prompt":true}' });
    expect(await get(getRequest, cookies.admin, { params: { requestId: "never-seen" } })).toEqual({
      requestId: "never-seen",
      entries: [],
    });
    const bad = await callConsoleHandler(getRequest, {
      cookie: cookies.admin,
      headers: SAME_ORIGIN,
      params: { requestId: "has spaces" },
    });
    expect(bad.status).toBe(400);
  });
});
