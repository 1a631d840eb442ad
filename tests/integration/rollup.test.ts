// Snapshots written into metric_rollups, rolled up by the leader (fenced), pruned after retention,
// and read back by the PostgreSQL source: the same answers from 10 s rows and from their rollups.
// A database of this file's own, so that the numbers are only the ones written here.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLease, releaseLease, type Fence } from "../../lib/platform/coordination/lease";
import { histogramQuantile } from "../../lib/platform/metrics-history/query/histogram";
import { PostgresMetricsSource } from "../../lib/platform/metrics-history/query/postgres";
import { DB_BOUNDS, FLEET_ROW_ID, LATENCY_BOUNDS } from "../../lib/platform/metrics-history/layout";
import { readCompleteness } from "../../lib/platform/metrics-history/query/completeness";
import { addMissingFleetRows, prune, rollUp } from "../../lib/platform/metrics-history/rollup";
import type { Snapshot } from "../../lib/platform/metrics-history/snapshot";
import { writeSnapshot } from "../../lib/platform/metrics-history/store";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

let scratch: ScratchDatabase;
let pool: pg.Pool;
const LEASE = `leader-${randomBytes(3).toString("hex")}`;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_rollup_${randomBytes(4).toString("hex")}`, { migrate: true });
  pool = new pg.Pool({ connectionString: scratch.url, max: 4 });
});
afterAll(async () => {
  await pool?.end();
  await scratch?.drop();
});

async function lead(holder: string): Promise<Fence> {
  const lease = await acquireLease(pool, LEASE, { holder, ttlMs: 60_000 });
  if (!lease) throw new Error(`${holder} could not take the lease`);
  return lease;
}

/**
 * A 10 s snapshot ending at `at` with `n` requests (one in ten a 5xx; one in five to the Messages
 * endpoint, the rest to chat), n latency observations in bucket `latencyBucket`, one upstream
 * attempt refused with 401/403.
 */
function snapshot(at: number, n: number, latencyBucket: number, extra: Partial<Snapshot> = {}): Snapshot {
  const latency = new Array(LATENCY_BOUNDS.length + 1).fill(0);
  latency[latencyBucket] = n;
  const dbQuery = new Array(DB_BOUNDS.length + 1).fill(0);
  dbQuery[3] = 2;
  return {
    periodStart: at - 10_000,
    at,
    requests: [n - Math.floor(n / 10), 0, 0, Math.floor(n / 10)],
    requestsByEndpoint: [n - Math.floor(n / 5), 0, Math.floor(n / 5), 0, 0],
    latency,
    latencySum: n * 0.1,
    cache: { hit: 1, miss: 2, bypass: 3 },
    cpuSeconds: 1,
    dbQuery,
    dbQuerySum: 0.01,
    dbQueryErrors: 0,
    upstreamAuthRejected: 1,
    rssBytes: 100e6 + n,
    memoryLimitBytes: 1e9,
    inFlight: 2,
    connections: 3,
    poolTotal: 5,
    poolInUse: 1,
    poolWaiting: 0,
    ...extra,
  };
}

const rowsOf = async (resolution: number, instance: string) =>
  (
    await pool.query<{
      bucket: Date;
      requests: string;
      requests_by_endpoint: string[];
      latency_buckets: string[];
      samples: number;
      seconds: number;
      dirty: boolean;
      rss_bytes_max: string;
    }>(
      `SELECT bucket, requests_2xx + requests_5xx AS requests, requests_by_endpoint, latency_buckets, samples, seconds, dirty, rss_bytes_max
       FROM metric_rollups WHERE resolution = $1 AND instance_id = $2 ORDER BY bucket`,
      [resolution, instance],
    )
  ).rows;

describe("writeSnapshot", () => {
  it("adds snapshots of one bucket together, and ignores a retried or older one", async () => {
    const at = Date.UTC(2026, 0, 1, 0, 0, 15);
    const first = { ...snapshot(at, 10, 3), periodStart: at - 5_000 };
    expect(await writeSnapshot(pool, "idem", first)).toBe(true);
    expect(await writeSnapshot(pool, "idem", first)).toBe(false);
    expect(await writeSnapshot(pool, "idem", { ...snapshot(at + 4_000, 4, 3), periodStart: at })).toBe(true);
    expect(await writeSnapshot(pool, "idem", { ...snapshot(at + 2_000, 100, 3), periodStart: at })).toBe(false);
    const [row] = await rowsOf(10, "idem");
    expect(row!.bucket).toEqual(new Date(Date.UTC(2026, 0, 1, 0, 0, 10)));
    expect(Number(row!.requests)).toBe(14);
    expect(row!.requests_by_endpoint.map(Number)).toEqual([8 + 4, 0, 2 + 0, 0, 0]);
    expect(row!.latency_buckets.map(Number)[3]).toBe(14);
    expect(row!.samples).toBe(2);
    expect(row!.seconds).toBeCloseTo(9, 9);
    await pool.query(`DELETE FROM metric_rollups WHERE instance_id = 'idem'`);
  });
});

describe("rollUp and the PostgreSQL source", () => {
  // A 10-minute block ending at least a few minutes ago; 10 s snapshots for its first 3 minutes.
  const block = Math.floor(Date.now() / 600_000) * 600_000 - 600_000;
  const instances = { "i-a": 3, "i-b": 9 }; // latency bucket per instance

  beforeAll(async () => {
    for (let k = 1; k <= 18; k++) {
      for (const [id, bucket] of Object.entries(instances))
        await writeSnapshot(pool, id, snapshot(block + k * 10_000, 10 * k, bucket));
    }
  });

  it("rolls 10 s rows into 1 min and 10 min rows with the same sums, merged histograms included", async () => {
    const fence = await lead("leader-1");
    expect(await rollUp(pool, fence, 10, 60)).toBe(36);
    expect(await rollUp(pool, fence, 60, 600)).toBe(6);
    expect(await rollUp(pool, fence, 10, 60)).toBe(0);
    for (const [id, bucket] of Object.entries(instances)) {
      const tens = await rowsOf(10, id);
      const minutes = await rowsOf(60, id);
      const blocks = await rowsOf(600, id);
      expect(tens.every((r) => !r.dirty)).toBe(true);
      expect(minutes.map((r) => r.bucket.getTime())).toEqual([block, block + 60_000, block + 120_000]);
      // Minute m holds the snapshots k = 6m+1 .. 6m+6 (one is the next minute's first: midpoints).
      for (const [m, row] of minutes.entries()) {
        const ks = tens.filter(
          (t) => t.bucket.getTime() >= row.bucket.getTime() && t.bucket.getTime() < row.bucket.getTime() + 60_000,
        );
        expect(Number(row.requests)).toBe(ks.reduce((s, t) => s + Number(t.requests), 0));
        expect(row.latency_buckets.map(Number)[bucket]).toBe(Number(row.requests));
        const byEndpoint = ks.reduce((sums, t) => sums.map((s, e) => s + Number(t.requests_by_endpoint[e])), [0, 0, 0, 0, 0]);
        expect(row.requests_by_endpoint.map(Number)).toEqual(byEndpoint);
        expect(byEndpoint[0]! + byEndpoint[2]!).toBe(Number(row.requests));
        expect(row.samples).toBe(ks.length);
        expect(row.dirty).toBe(false);
        expect(m).toBeLessThan(3);
      }
      expect(blocks).toHaveLength(1);
      expect(Number(blocks[0]!.requests)).toBe((10 * (18 * 19)) / 2);
      expect(Number(blocks[0]!.rss_bytes_max)).toBe(100e6 + 180);
      expect(blocks[0]!.dirty).toBe(false);
    }
  });

  it("answers the same from 10 s rows as from their rollups", async () => {
    const range = { start: new Date(block), end: new Date(block + 600_000), stepSeconds: 600 };
    // 10 s and 1 min rows kept no time at all: the range must come from the 10 min rollups.
    const fromRollups = new PostgresMetricsSource({ db: pool, retentionSeconds: { 10: 0, 60: 0, 600: 86_400 * 90 } });
    // Rollups out of reach: the same range must come from the 10 s rows.
    const fromTens = new PostgresMetricsSource({ db: pool, retentionSeconds: { 10: 86_400, 60: 0, 600: 0 } });
    expect((await fromRollups.plan(range)).parts.map((p) => p.resolution)).toEqual([600]);
    expect((await fromTens.plan(range)).parts.map((p) => p.resolution)).toEqual([10]);
    for (const name of [
      "requestRate",
      "requestRateByInstance",
      "latencyPercentiles",
      "errorRate",
      "cacheHitRate",
      "inFlight",
      "activeConnections",
      "databasePerformance",
      "cpuUtilisation",
      "memoryBytes",
      "memoryUtilisation",
      "upstreamAuthRejections",
    ] as const) {
      const [a, b] = await Promise.all([fromRollups[name](range), fromTens[name](range)]);
      expect(a, name).toEqual(b);
    }
    expect(await fromRollups.totals(range)).toEqual(await fromTens.totals(range));
    const [rate] = await fromRollups.requestRate(range);
    expect(rate!.points).toEqual([{ t: block, v: (2 * 10 * (18 * 19)) / 2 / 600 }]);
    const [errors] = await fromRollups.errorRate(range);
    expect(errors!.points[0]!.v).toBeCloseTo(0.1, 12); // one request in ten of every snapshot
    // Half the observations in each instance's bucket: p50 at the top of i-a's, p95 inside i-b's.
    const total = 10 * (18 * 19);
    const counts = new Array(LATENCY_BOUNDS.length + 1).fill(0);
    counts[3] = total / 2;
    counts[9] = total / 2;
    const percentiles = await fromRollups.latencyPercentiles(range);
    expect(percentiles.find((s) => s.name === "p95")!.points[0]!.v).toBeCloseTo(
      histogramQuantile(0.95, LATENCY_BOUNDS, counts)!,
      12,
    );
    expect(percentiles.find((s) => s.name === "p50")!.points[0]!.v).toBeCloseTo(LATENCY_BOUNDS[3]!, 12);
    const [rejected] = await fromRollups.upstreamAuthRejections(range);
    expect(rejected!.points).toEqual([{ t: block, v: 2 * 18 }]); // one per snapshot, 18 per instance
    const [cpu] = await fromRollups.cpuUtilisation(range);
    expect(cpu!.points[0]!.v).toBeCloseTo(10, 9); // 1 CPU-second per 10 s
  });

  it("rolls a late snapshot into the rollups already made", async () => {
    const fence = await lead("leader-1");
    // The first two buckets of a minute are rolled up; the third arrives later (a retried write).
    await writeSnapshot(pool, "i-late", snapshot(block + 10_000, 7, 3));
    await writeSnapshot(pool, "i-late", snapshot(block + 20_000, 7, 3));
    expect(await rollUp(pool, fence, 10, 60)).toBe(2);
    expect(await rollUp(pool, fence, 60, 600)).toBe(1);
    expect(Number((await rowsOf(60, "i-late"))[0]!.requests)).toBe(14);
    await writeSnapshot(pool, "i-late", snapshot(block + 30_000, 1_000, 3));
    expect(await rollUp(pool, fence, 10, 60)).toBe(1);
    expect(await rollUp(pool, fence, 60, 600)).toBe(1);
    expect(Number((await rowsOf(60, "i-late"))[0]!.requests)).toBe(1_014);
    expect(Number((await rowsOf(600, "i-late"))[0]!.requests)).toBe(1_014);
  });

  it("keeps the fleet's own rows, every instance's added up at each resolution, and knows how far they are exact", async () => {
    const fence = await lead("leader-1");
    for (const resolution of [10, 60, 600]) {
      const { rows: sums } = await pool.query<{ bucket: Date; requests: string; latency: string[] }>(
        `SELECT bucket, sum(requests_2xx + requests_3xx + requests_4xx + requests_5xx)::text AS requests,
                ARRAY(SELECT sum(l)::text FROM metric_rollups m, unnest(m.latency_buckets) WITH ORDINALITY AS u(l, k)
                      WHERE m.resolution = r.resolution AND m.bucket = r.bucket AND m.instance_id <> '*' GROUP BY k ORDER BY k) AS latency
         FROM metric_rollups r WHERE resolution = $1 AND instance_id <> '*' GROUP BY resolution, bucket ORDER BY bucket`,
        [resolution],
      );
      const fleet = await rowsOf(resolution, FLEET_ROW_ID);
      expect(sums.length).toBeGreaterThan(0);
      expect(fleet.map((r) => [r.bucket.getTime(), r.requests, r.latency_buckets])).toEqual(
        sums.map((r) => [r.bucket.getTime(), r.requests, r.latency]),
      );
      expect(fleet.every((r) => !r.dirty)).toBe(true);
    }
    // Everything rolled up: every row is exact. A new snapshot's bucket is not, nor are the rows above it.
    expect(await readCompleteness(pool)).toEqual({ 10: Infinity, 60: Infinity, 600: Infinity });
    await writeSnapshot(pool, "i-new", snapshot(block + 40_000, 5, 3));
    const [newest] = await rowsOf(10, "i-new");
    expect(await readCompleteness(pool)).toEqual({
      10: newest!.bucket.getTime(),
      60: newest!.bucket.getTime(),
      600: newest!.bucket.getTime(),
    });
    expect(await rollUp(pool, fence, 10, 60)).toBe(1);
    expect(await readCompleteness(pool)).toEqual({ 10: Infinity, 60: Infinity, 600: block });
    expect(await rollUp(pool, fence, 60, 600)).toBe(1);
    expect(await readCompleteness(pool)).toEqual({ 10: Infinity, 60: Infinity, 600: Infinity });
    expect(Number((await rowsOf(600, FLEET_ROW_ID))[0]!.requests)).toBe(
      Number((await rowsOf(600, "i-a"))[0]!.requests) * 2 + 1_014 + 5,
    );
  });

  it("adds the fleet's rows an earlier leader did not write, once, from the instances' rows", async () => {
    const fence = await lead("leader-1");
    const before = await pool.query(
      `SELECT resolution, bucket, requests_2xx, latency_buckets FROM metric_rollups WHERE instance_id = '*' ORDER BY 1, 2`,
    );
    expect(before.rows.length).toBeGreaterThan(3);
    // A leader of the version before the fleet's rows rolled these up: nothing of the fleet's is there.
    await pool.query(`DELETE FROM metric_rollups WHERE instance_id = '*'`);
    expect(await addMissingFleetRows(pool, fence, 3_600)).toBe(before.rows.length);
    const after = await pool.query(
      `SELECT resolution, bucket, requests_2xx, latency_buckets FROM metric_rollups WHERE instance_id = '*' ORDER BY 1, 2`,
    );
    expect(after.rows).toEqual(before.rows);
    expect(await addMissingFleetRows(pool, fence, 3_600)).toBe(0);
    // A bucket not rolled up yet is left to the rollup, which adds its fleet row when it claims it.
    await writeSnapshot(pool, "i-repair", snapshot(block + 310_000, 4, 3));
    const [pending] = await rowsOf(10, "i-repair");
    expect(await addMissingFleetRows(pool, fence, 3_600)).toBe(0);
    expect((await rowsOf(10, FLEET_ROW_ID)).some((r) => r.bucket.getTime() === pending!.bucket.getTime())).toBe(false);
    expect(await rollUp(pool, fence, 10, 60)).toBe(1);
    expect((await rowsOf(10, FLEET_ROW_ID)).find((r) => r.bucket.getTime() === pending!.bucket.getTime())?.requests).toBe("4");
  });

  it("refuses a deposed leader's rollup and prune, leaving the work for the new one", async () => {
    const old = await lead("leader-1");
    await releaseLease(pool, old);
    const current = await lead("leader-2");
    expect(current.token).toBeGreaterThan(old.token);
    await writeSnapshot(pool, "i-d", snapshot(block + 10_000, 500, 9));
    expect(await rollUp(pool, old, 10, 60)).toBeNull();
    expect(await prune(pool, old, 10, 0)).toBeNull();
    expect((await rowsOf(10, "i-d")).map((r) => r.dirty)).toEqual([true]);
    expect(await rowsOf(60, "i-d")).toHaveLength(0);
    expect(await rollUp(pool, current, 10, 60)).toBe(1);
    expect(await rowsOf(60, "i-d")).toHaveLength(1);
  });

  it("prunes each resolution after its retention, keeping rows not yet rolled up", async () => {
    const fence = await lead("leader-2");
    await writeSnapshot(pool, "i-c", snapshot(block + 50_000, 5, 3)); // dirty: never rolled up
    const before = (await rowsOf(10, "i-a")).length;
    expect(before).toBeGreaterThan(0);
    expect(await prune(pool, fence, 10, 86_400)).toBe(0); // all younger than a day
    const clean = (await pool.query(`SELECT count(*)::int AS n FROM metric_rollups WHERE resolution = 10 AND NOT dirty`)).rows[0]
      .n as number;
    expect(clean).toBeGreaterThan(before);
    expect(await prune(pool, fence, 10, 1)).toBe(clean);
    expect(await rowsOf(10, "i-a")).toHaveLength(0);
    expect(await rowsOf(10, "i-c")).toHaveLength(1);
    expect(await rowsOf(60, "i-a")).toHaveLength(3);
  });
});
