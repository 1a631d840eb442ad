// Every table that grows with time holds its documented bound (docs/operations.md "What grows, and
// its bound"): rows are written beyond it, the leader's retention jobs run under a real election,
// and what is left is counted. A database of this file's own, so that every row is one written here.
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLeaderElection, type LeaderElection } from "../../lib/platform/coordination/leader";
import { acquireLease, releaseLease } from "../../lib/platform/coordination/lease";
import { reapDeadInstances } from "../../lib/platform/coordination/registry";
import { parseConfig } from "../../lib/platform/config";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { cacheSharedSize, tableBytes, tableRows } from "../../lib/platform/metrics/tables";
import { deleteInBatches } from "../../lib/platform/retention/batched-delete";
import { registerRetentionJobs } from "../../lib/platform/retention/jobs";
import { registerCacheJobs } from "../../lib/data-plane/cache/jobs";
import { LOGIN_THROTTLE_EXPIRED } from "../../lib/control-plane/auth/login-throttle";
import { Prisma } from "../../lib/platform/metrics-history/sql";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

let scratch: ScratchDatabase;
let database: Database;
const silent = pino({ level: "silent" });

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_retention_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 4 });
});
afterAll(async () => {
  await database?.close();
  await scratch?.drop();
});

const count = async (table: string, where = "true") =>
  (await database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`)).rows[0]!.n;

/** Waits (bounded) until `check` resolves true. */
async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("timed out waiting for the retention jobs");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function gaugeValues(gauge: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> }) {
  return new Map((await gauge.get()).values.map((v) => [String(Object.values(v.labels)[0]), v.value]));
}

describe("the leader's retention jobs", () => {
  let election: LeaderElection | undefined;
  afterEach(async () => {
    await election?.stop();
    election = undefined;
  });

  it("bring every table back within its bound, in batches, and report the tables' sizes", async () => {
    const { pool } = database;
    // Beyond each bound (defaults: audit 365 days, alert history 90 days), and within it.
    await pool.query(
      `INSERT INTO audit_log (at, actor_email, action, target_type) SELECT now() - interval '366 days' - i * interval '1 minute', 'old@x', 'key.create', 'key' FROM generate_series(1, 4500) i`,
    );
    await pool.query(
      `INSERT INTO audit_log (at, actor_email, action, target_type) SELECT now() - interval '364 days', 'kept@x', 'key.create', 'key' FROM generate_series(1, 7)`,
    );
    await pool.query(
      `INSERT INTO alert_events (rule_id, subject, state, at) SELECT 'cpu_high', 'fleet', 'firing', now() - interval '91 days' FROM generate_series(1, 300)`,
    );
    await pool.query(
      `INSERT INTO alert_events (rule_id, subject, state, at) SELECT 'cpu_high', 'fleet', 'resolved', now() - interval '89 days' FROM generate_series(1, 5)`,
    );
    // Rate-limit windows of minutes long past, and of this minute.
    await pool.query(
      `INSERT INTO rate_limit_windows (key_id, window_start, used) SELECT gen_random_uuid(), date_trunc('minute', now()) - (11 + i % 50) * interval '1 minute', 1 FROM generate_series(1, 600) i`,
    );
    await pool.query(
      `INSERT INTO rate_limit_windows (key_id, window_start, used) SELECT gen_random_uuid(), date_trunc('minute', now()), 1 FROM generate_series(1, 4)`,
    );
    // Sign-in counters whose 15-minute window ended, known-good marks past 30 days, and ones still current.
    await pool.query(
      `INSERT INTO login_throttle (key, attempts, window_start) SELECT 'addr:10.0.' || i, 3, now() - interval '16 minutes' FROM generate_series(1, 400) i`,
    );
    await pool.query(
      `INSERT INTO login_throttle (key, attempts, window_start) SELECT 'good:a@x 10.1.' || i, 0, now() - interval '31 days' FROM generate_series(1, 50) i`,
    );
    await pool.query(
      `INSERT INTO login_throttle (key, attempts, window_start) SELECT 'good:a@x 10.2.' || i, 0, now() - interval '29 days' FROM generate_series(1, 6) i`,
    );
    await pool.query(
      `INSERT INTO login_throttle (key, attempts, window_start) SELECT 'addr:10.3.' || i, 1, now() FROM generate_series(1, 3) i`,
    );
    // Scaling decisions past the minute rollups' retention (7 days), and recent ones.
    const decision = (age: string, n: number) =>
      pool.query(`INSERT INTO scaling_decisions (at, leader_token, policy_name, target, current_replicas, desired_replicas, reason, message, metrics, outcome)
                  SELECT now() - interval '${age}', 1, 'balanced', 'none', 3, 3, 'DesiredWithinRange', 'm', '{}', 'recommended' FROM generate_series(1, ${n})`);
    await decision("8 days", 250);
    await decision("6 days", 8);
    // Request log entries past REQUEST_LOG_RETENTION_DAYS (7), and recent ones.
    const logged = (age: string, n: number) =>
      pool.query(`INSERT INTO request_log (at, request_id, instance_id, endpoint, status, kept_because, duration_ms)
                  SELECT now() - interval '${age}', 'r' || i, 'i', 'chat', 200, 'sampled', 1 FROM generate_series(1, ${n}) i`);
    await logged("8 days", 2_300);
    await logged("6 days", 6);
    // The shared cache: 500 rows over a 120-row bound, and 30 expired.
    await pool.query(
      `INSERT INTO response_cache (key, model, body, expires_at, size_bytes) SELECT 'k' || i, 'm', 'b', now() + i * interval '1 second', 4 FROM generate_series(1, 620) i`,
    );
    await pool.query(
      `INSERT INTO response_cache (key, model, body, expires_at, size_bytes) SELECT 'x' || i, 'm', 'b', now() - interval '1 second', 4 FROM generate_series(1, 30) i`,
    );

    const config = parseConfig({ DATABASE_URL: scratch.url, SECRET: "s".repeat(32), CACHE_SHARED_MAX_ROWS: "120" });
    const holder = "retention-test";
    election = startLeaderElection({ pool, holder, ttlMs: 3_000 });
    registerRetentionJobs({ leader: election, holder, database, config, logger: silent }, [
      { table: "login_throttle", expired: LOGIN_THROTTLE_EXPIRED },
    ]);
    registerCacheJobs({ leader: election, holder, database, config, logger: silent });

    // The last table of a run, and the cache's own job.
    await until(async () => (await count("request_log")) === 6 && (await count("response_cache")) === 120);
    expect(await count("scaling_decisions")).toBe(8);
    expect(await count("audit_log")).toBe(7);
    expect(await count("audit_log", "actor_email = 'kept@x'")).toBe(7);
    expect(await count("alert_events")).toBe(5);
    expect(await count("alert_events", "state = 'resolved'")).toBe(5);
    expect(await count("rate_limit_windows")).toBe(4);
    expect(await count("login_throttle")).toBe(9);
    expect(await count("login_throttle", "key LIKE 'good:a@x 10.2.%' OR key LIKE 'addr:10.3.%'")).toBe(9);
    // The 120 that expire last are the ones kept.
    expect(await count("response_cache", "key LIKE 'k%' AND substr(key, 2)::int > 500")).toBe(120);

    await until(async () => (await tableBytes.get()).values.length >= 9 && (await cacheSharedSize.get()).values.length === 2);
    const bytes = await gaugeValues(tableBytes);
    for (const table of [
      "response_cache",
      "metric_rollups",
      "alert_events",
      "audit_log",
      "login_throttle",
      "rate_limit_windows",
      "instances",
      "scaling_decisions",
      "request_log",
    ]) {
      expect(bytes.get(table), table).toBeGreaterThan(0);
    }
    expect((await gaugeValues(tableRows)).has("audit_log")).toBe(true);
    const cache = await gaugeValues(cacheSharedSize);
    expect(cache).toEqual(
      new Map([
        ["rows", 120],
        ["payload_bytes", 480],
      ]),
    );

    // A former leader reports no sizes: they were its leadership's.
    await election.stop();
    election = undefined;
    expect((await tableRows.get()).values).toEqual([]);
    expect((await cacheSharedSize.get()).values).toEqual([]);
  }, 60_000);

  it("delete finished batches with their jobs, and files, BATCH_RETENTION_DAYS after, sparing what a running batch reads", async () => {
    const { pool } = database;
    const key = (
      await pool.query<{ id: string }>(
        `INSERT INTO api_keys (id, name, key_hash, prefix) VALUES (gen_random_uuid(), 'batch-retention', 'h-batch-retention', 'p') RETURNING id`,
      )
    ).rows[0]!.id;
    const file = (id: string, age: string) =>
      pool
        .query(
          `INSERT INTO batch_files (id, key_id, purpose, filename, bytes, created_at) VALUES ($1, $2, 'batch', 'f', 3, now() - $3::interval)`,
          [id, key, age],
        )
        .then(() => pool.query(`INSERT INTO batch_file_chunks (file_id, seq, data) VALUES ($1, 0, 'abc'), ($1, 1, 'def')`, [id]));
    const batch = (id: string, status: string, endedAgo: string | null, input: string) =>
      pool
        .query(
          `INSERT INTO batches (id, key_id, endpoint, input_file_id, completion_window, status, expires_at, created_at, completed_at, cancelled_at)
           VALUES ($1, $2, '/v1/chat/completions', $3, '24h', $4::"BatchStatus", now(), now() - interval '40 days',
                   CASE WHEN $4 = 'completed' THEN now() - $5::interval END, CASE WHEN $4 = 'cancelled' THEN now() - $5::interval END)`,
          [id, key, input, status, endedAgo],
        )
        .then(() =>
          pool.query(
            `INSERT INTO batch_jobs (batch_id, line_no, custom_id, body, status) SELECT $1, i, 'c' || i, '{}', 'succeeded' FROM generate_series(1, 30) i`,
            [id],
          ),
        );
    await file("file-old", "31 days");
    await file("file-old-in-use", "31 days");
    await file("file-recent", "29 days");
    for (let i = 0; i < 12; i++) await batch(`batch_old_${i}`, i % 2 ? "completed" : "cancelled", "31 days", "file-old");
    await batch("batch_recent", "completed", "29 days", "file-recent");
    await batch("batch_running", "in_progress", null, "file-old-in-use");

    const config = parseConfig({ DATABASE_URL: scratch.url, SECRET: "s".repeat(32) });
    expect(config.BATCH_RETENTION_DAYS).toBe(30);
    const holder = "batch-retention-test";
    election = startLeaderElection({ pool, holder, ttlMs: 3_000 });
    registerRetentionJobs({ leader: election, holder, database, config, logger: silent }, []);

    await until(
      async () => (await count("batches", `key_id = '${key}'`)) === 2 && (await count("batch_files", `key_id = '${key}'`)) === 2,
    );
    expect((await pool.query(`SELECT id FROM batches WHERE key_id = $1 ORDER BY id`, [key])).rows.map((r) => r.id)).toEqual([
      "batch_recent",
      "batch_running",
    ]);
    expect(await count("batch_jobs", "batch_id LIKE 'batch_old_%'")).toBe(0);
    expect(await count("batch_jobs", "batch_id IN ('batch_recent', 'batch_running')")).toBe(60);
    expect((await pool.query(`SELECT id FROM batch_files WHERE key_id = $1 ORDER BY id`, [key])).rows.map((r) => r.id)).toEqual([
      "file-old-in-use",
      "file-recent",
    ]);
    expect(await count("batch_file_chunks")).toBe(4);
  }, 60_000);

  it("deletes nothing under a deposed leader's token", async () => {
    const { pool } = database;
    const old = await acquireLease(pool, "leader", { holder: "old", ttlMs: 60_000 });
    await releaseLease(pool, old!);
    const current = await acquireLease(pool, "leader", { holder: "new", ttlMs: 60_000 });
    await pool.query(
      `INSERT INTO audit_log (at, actor_email, action, target_type) SELECT now() - interval '400 days', 'fenced@x', 'key.create', 'key' FROM generate_series(1, 10)`,
    );
    const expired = Prisma.sql`actor_email = 'fenced@x'`;
    expect(await deleteInBatches(pool, old!, "audit_log", expired, { batch: 3, maxBatches: 10 })).toBeNull();
    expect(await count("audit_log", "actor_email = 'fenced@x'")).toBe(10);
    expect(await deleteInBatches(pool, current!, "audit_log", expired, { batch: 3, maxBatches: 2 })).toBe(6);
    expect(await deleteInBatches(pool, current!, "audit_log", expired, { batch: 3, maxBatches: 10 })).toBe(4);
    await releaseLease(pool, current!);
  });
});

describe("the instance registry", () => {
  it("forgets dead instances an hour after their last heartbeat, and only those", async () => {
    const { pool } = database;
    await pool.query(
      `INSERT INTO instances (id, host, port, version, status, last_seen_at) SELECT 'gone-' || i, 'h', 1, 'v', 'dead', now() - interval '61 minutes' FROM generate_series(1, 200) i`,
    );
    await pool.query(
      `INSERT INTO instances (id, host, port, version, status, last_seen_at) SELECT 'recent-' || i, 'h', 1, 'v', 'dead', now() - interval '59 minutes' FROM generate_series(1, 3) i`,
    );
    await pool.query(
      `INSERT INTO instances (id, host, port, version, status, last_seen_at) VALUES ('silent', 'h', 1, 'v', 'healthy', now() - interval '2 hours'), ('alive', 'h', 1, 'v', 'healthy', now())`,
    );
    const lease = await acquireLease(pool, "leader", { holder: "reaper", ttlMs: 60_000 });
    // The leader's job calls it with INSTANCE_DEAD_AFTER_MS and an hour (lib/platform/process/singletons.ts).
    expect(await reapDeadInstances(pool, lease!, 15_000, 3_600_000)).toEqual(["silent"]);
    expect((await pool.query<{ id: string }>(`SELECT id FROM instances ORDER BY id`)).rows.map((r) => r.id)).toEqual([
      "alive",
      "recent-1",
      "recent-2",
      "recent-3",
      "silent",
    ]);
    await releaseLease(pool, lease!);
  });
});
