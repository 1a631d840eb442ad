// The PostgreSQL pool's metrics: every query on a pooled connection is timed, whichever way it was
// sent (pool.query's callback, a checked-out client's promise, Prisma over the same pool), errors
// are counted, and the pool gauges follow the pool.
import { afterAll, describe, expect, inject, it } from "vitest";
import { createDatabase } from "../../lib/platform/db/client";
import { dbPoolConnections, dbPoolMax, dbPoolWaiting, dbQueryDuration, dbQueryErrors } from "../../lib/platform/metrics/db";

const database = createDatabase({ url: inject("databaseUrl"), poolMax: 2 });
afterAll(async () => {
  await database.close();
});

const queries = async () =>
  (await dbQueryDuration.get()).values.find((v) => v.metricName === "agenticorp_db_query_duration_seconds_count")!.value;
const errors = async () => (await dbQueryErrors.get()).values[0]?.value ?? 0;
const gauge = async (metric: typeof dbPoolWaiting, labels: Record<string, string> = {}) =>
  (await metric.get()).values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value;

describe("database pool metrics", () => {
  it("times queries sent every way, and counts the failed ones", async () => {
    const before = await queries();
    const errorsBefore = await errors();
    await database.pool.query("SELECT 1");
    const client = await database.pool.connect();
    try {
      await client.query("SELECT pg_sleep(0.02)");
      await expect(client.query("SELECT no_such_column FROM no_such_table")).rejects.toThrow();
    } finally {
      client.release();
    }
    await database.prisma.$queryRaw`SELECT 2`;
    expect((await queries()) - before).toBeGreaterThanOrEqual(4);
    expect((await errors()) - errorsBefore).toBe(1);
    const slow = (await dbQueryDuration.get()).values.find(
      (v) => v.metricName === "agenticorp_db_query_duration_seconds_bucket" && v.labels.le === 0.01,
    )!;
    const all = (await dbQueryDuration.get()).values.find(
      (v) => v.metricName === "agenticorp_db_query_duration_seconds_bucket" && v.labels.le === "+Inf",
    )!;
    expect(all.value - slow.value).toBeGreaterThanOrEqual(1); // the 20 ms sleep is above 10 ms
  });

  it("reports the pool's connections by state and its ceiling", async () => {
    const held = await database.pool.connect();
    try {
      expect(await gauge(dbPoolConnections, { state: "in_use" })).toBeGreaterThanOrEqual(1);
      expect(await gauge(dbPoolMax)).toBeGreaterThanOrEqual(2);
      const second = await database.pool.connect();
      const waiting = database.pool.connect();
      expect(await gauge(dbPoolWaiting)).toBeGreaterThanOrEqual(1);
      second.release();
      (await waiting).release();
    } finally {
      held.release();
    }
    expect(await gauge(dbPoolWaiting)).toBe(0);
  });
});
