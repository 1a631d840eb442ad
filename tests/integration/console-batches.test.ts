// GET /api/console/batches against a real PostgreSQL: the fleet's queue now, queued and running jobs
// per owning key (busiest first), batches newest first with their progress, one key's only, paged;
// bad input answers 400 naming the field; and the overview's queue tile reads the same queue.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createUser } from "../../lib/control-plane/users/users";
import { getBatches } from "../../lib/control-plane/console/batches";
import { batchesResponse } from "../../lib/control-plane/console/batch-contracts";
import { getOverview } from "../../lib/control-plane/console/overview";
import { callConsoleHandler } from "../helpers/console-routes";
import { sessionCookie } from "../helpers/console-session";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
let scratch: ScratchDatabase;
let database: Database;
let cookie: string;
const keys: Record<string, string> = {};

/** A batch of `lines` jobs, `done` of them succeeded and `failed` failed, `running` claimed, the rest queued. */
async function batch(
  key: string,
  id: string,
  lines: number,
  split: { done?: number; failed?: number; running?: number } = {},
  createdSecondsAgo = 0,
): Promise<void> {
  await database.pool.query(
    `INSERT INTO batches (id, key_id, endpoint, input_file_id, completion_window, status, total_count, created_at, in_progress_at, expires_at)
     VALUES ($1, $2::uuid, '/v1/chat/completions', 'file-in', '24h', 'in_progress', $3, now() - make_interval(secs => $4), now(), now() + interval '1 day')`,
    [id, keys[key], lines, createdSecondsAgo],
  );
  const { done = 0, failed = 0, running = 0 } = split;
  await database.pool.query(
    `INSERT INTO batch_jobs (batch_id, line_no, custom_id, body, status, created_at)
     SELECT $1, n, 'req-' || n, '{}'::jsonb,
            (CASE WHEN n <= $3 THEN 'succeeded' WHEN n <= $3 + $4 THEN 'failed' WHEN n <= $3 + $4 + $5 THEN 'running' ELSE 'queued' END)::"BatchJobStatus",
            now() - make_interval(secs => $6)
     FROM generate_series(1, $2::int) AS n`,
    [id, lines, done, failed, running, createdSecondsAgo],
  );
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_console_batches_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 4 });
  setDatabase(database);
  setConfig(parseConfig({ DATABASE_URL: scratch.url, SECRET, NODE_ENV: "test", INSTANCE_ID: "console-batches-test" }));
  const operator = await createUser(database.prisma, {
    email: "operator@example.test",
    role: "operator",
    password: "operator-password-123",
  });
  cookie = await sessionCookie({ id: operator.id, email: operator.email, role: "operator" });
  for (const name of ["nightly-etl", "evals"]) keys[name] = (await createApiKey(database.prisma, { name })).record.id;
}, 60_000);

afterAll(async () => {
  setDatabase(undefined);
  await database?.close();
  await scratch?.drop();
});

const get = async (query = "") => {
  const response = await callConsoleHandler(getBatches, { cookie, query });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

describe("GET /api/console/batches", () => {
  it("answers an empty queue as real zeros, with no batches", async () => {
    const { status, body } = await get();
    expect(status).toBe(200);
    expect(batchesResponse.parse(body)).toEqual({
      queue: { queued: 0, running: 0, oldestQueuedAgeSeconds: null },
      byKey: { keys: [] },
      batches: { data: [], hasMore: false, nextAfter: null },
    });
  });

  it("shows the queue, who fills it, and each batch's progress, newest first", async () => {
    await batch("nightly-etl", "batch_etl_1", 500, { done: 100, failed: 20, running: 30 }, 120);
    await batch("evals", "batch_evals_1", 40, { done: 10, running: 2 }, 60);
    await batch("nightly-etl", "batch_etl_2", 10, {}, 0);
    const { body } = await get();
    const parsed = batchesResponse.parse(body);
    expect(parsed.queue).toMatchObject({ queued: 350 + 28 + 10, running: 32 });
    expect((parsed.queue as { oldestQueuedAgeSeconds: number }).oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(119);
    expect(parsed.byKey).toEqual({
      keys: [
        { keyId: keys["nightly-etl"], keyName: "nightly-etl", queued: 360, running: 30, batches: 2 },
        { keyId: keys.evals, keyName: "evals", queued: 28, running: 2, batches: 1 },
      ],
    });
    const page = parsed.batches as Extract<typeof parsed.batches, { data: unknown }>;
    expect(page.data.map((b) => b.id)).toEqual(["batch_etl_2", "batch_evals_1", "batch_etl_1"]);
    expect(page.data[2]).toMatchObject({
      status: "in_progress",
      key: { name: "nightly-etl" },
      requestCounts: { total: 500, completed: 100, failed: 20 },
      endedAt: null,
    });
  });

  it("narrows to one key and pages with nextAfter", async () => {
    const first = batchesResponse.parse((await get(`?keyId=${keys["nightly-etl"]}&limit=1`)).body).batches as {
      data: Array<{ id: string }>;
      hasMore: boolean;
      nextAfter: string | null;
    };
    expect(first).toMatchObject({ data: [{ id: "batch_etl_2" }], hasMore: true, nextAfter: "batch_etl_2" });
    const second = batchesResponse.parse(
      (await get(`?keyId=${keys["nightly-etl"]}&limit=1&after=${first.nextAfter}`)).body,
    ).batches;
    expect(second).toMatchObject({ data: [{ id: "batch_etl_1" }], hasMore: false, nextAfter: null });
  });

  it("refuses bad input with 400 naming the field", async () => {
    for (const [query, param] of [
      ["?keyId=nope", "keyId"],
      ["?limit=0", "limit"],
      ["?limit=101", "limit"],
      ["?after=' OR 1=1 --", "after"],
    ] as const) {
      const { status, body } = await get(query);
      expect(status, query).toBe(400);
      expect(body.error.param, query).toBe(param);
    }
  });
});

describe("the overview's batch queue", () => {
  it("carries the live queue for its tile", async () => {
    const response = await callConsoleHandler(getOverview, { cookie, query: "?range=15m" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { batchQueue: unknown };
    expect(body.batchQueue).toMatchObject({ queued: 388, running: 32 });
  });
});
