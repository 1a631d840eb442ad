// The console's overview queries on the PostgreSQL metrics source, timed over seeded rollups, and
// the leader's rollup job over the same table: shared by `npm run bench:query` (10 instances) and
// `npm run bench:fleet` (40). Seeds 10 s, 1 min and 10 min rows for the whole period with the real
// writer's row shape (more 10 s rows than their 6 h retention keeps, so the table is at its largest).
import type pg from "pg";
import { retentionSeconds } from "../../lib/platform/metrics-history/query";
import { PostgresMetricsSource, type Plan } from "../../lib/platform/metrics-history/query/postgres";
import type { TimeRange } from "../../lib/platform/metrics-history/query/types";
import { parseConfig } from "../../lib/platform/config";
import { DB_BOUNDS, FLEET_ROW_ID, LATENCY_BOUNDS } from "../../lib/platform/metrics-history/layout";
import { acquireLease, type Fence } from "../../lib/platform/coordination/lease";
import { addMissingFleetRows, rollUp, ROLLUP_STEPS } from "../../lib/platform/metrics-history/rollup";
import { RANGE_SPECS } from "../../lib/control-plane/console/ranges";

export const TARGET_P95_MS = 150;
const WARMUP_RUNS = 5;
const RUNS = 50;

// The console's overview ranges that 24 h of data can fill.
const RANGES = (["15m", "1h", "6h", "24h"] as const).map((name) => ({ name, ...RANGE_SPECS[name] }));
const OVERVIEW = [
  "requestRate",
  "requestRateByEndpoint",
  "requestRateByInstance",
  "latencyPercentiles",
  "errorRate",
  "cacheHitRate",
  "databasePerformance",
] as const;
const SPANS = ["totals", "peakRequestRate"] as const;

/** Seeds `hours` of rollups for `instances` instances (ids bench-1 ...) and their registry rows; returns the rows written. */
export async function seedRollups(pool: pg.Pool, now: number, instances: number, hours = 24): Promise<number> {
  // Each row: ~20 requests/s per instance, 1% 5xx, latency spread over the low buckets, a few
  // queries per second. random() is evaluated per row (the subqueries reference the row).
  const { rowCount } = await pool.query(
    `INSERT INTO metric_rollups (
       resolution, instance_id, bucket, seconds, samples, requests_2xx, requests_3xx, requests_4xx, requests_5xx,
       latency_buckets, latency_sum_seconds, cache_hits, cache_misses, cache_bypass, cpu_seconds,
       rss_bytes_sum, rss_bytes_max, memory_limit_bytes, in_flight_sum, in_flight_max, connections_sum, connections_max,
       db_pool_total_sum, db_pool_in_use_sum, db_pool_waiting_sum, db_pool_waiting_max,
       db_query_buckets, db_query_sum_seconds, db_query_errors, dirty, last_snapshot_at)
     SELECT r.res, 'bench-' || i, b, r.res, r.res / 10,
       (r.res * (18 + 4 * random()))::bigint, 0, (r.res * 0.5 * random())::bigint, (r.res * 0.2 * random())::bigint,
       ARRAY(SELECT (r.res * 2 * random() * (k <= 8)::int)::bigint FROM generate_series(1, $1::int) AS k WHERE b IS NOT NULL),
       r.res * 4.0, (r.res * 2 * random())::bigint, (r.res * 2 * random())::bigint, (r.res * 16 * random())::bigint,
       r.res * 0.3 * random(), (r.res / 10) * 3e8, 3.2e8, 2e9, (r.res / 10) * 4 * random(), 8, (r.res / 10) * 10.0, 12,
       (r.res / 10) * 5.0, (r.res / 10) * random(), 0, 0,
       ARRAY(SELECT (r.res * 0.5 * random() * (k <= 6)::int)::bigint FROM generate_series(1, $2::int) AS k WHERE b IS NOT NULL),
       r.res * 0.01, 0, false, b + r.res * interval '1 second'
     FROM (VALUES (10), (60), (600)) AS r(res), generate_series(1, $3::int) AS i,
          generate_series(date_bin(r.res * interval '1 second', to_timestamp($4::float8 / 1000) - $5::int * interval '1 hour', timestamptz 'epoch'),
                          to_timestamp($4::float8 / 1000), r.res * interval '1 second') AS b`,
    [LATENCY_BOUNDS.length + 1, DB_BOUNDS.length + 1, instances, now, hours],
  );
  // The fleet's rows, added as a new leader adds those missing (seeded rows carry no fleet rows).
  const added = await addMissingFleetRows(pool, await benchFence(pool), (hours + 1) * 3_600);
  if (added === null) throw new Error("fenced out of the scratch database");
  // Steady state: the newest 10 s bucket of every instance, and the minute it feeds, are not rolled up yet.
  await markNewestDirty(pool);
  await pool.query(
    `INSERT INTO instances (id, host, port, version, status, started_at, last_seen_at)
     SELECT 'bench-' || i, 'bench-host-' || i, 3000, 'bench', 'healthy', now() - interval '1 day', now() FROM generate_series(1, $1::int) AS i`,
    [instances],
  );
  await pool.query("ANALYZE metric_rollups");
  return rowCount ?? 0;
}

/** The leader lease of this (scratch) database, for fenced writes. */
async function benchFence(pool: pg.Pool): Promise<Fence> {
  const lease = await acquireLease(pool, "leader", { holder: "bench", ttlMs: 600_000 });
  if (!lease) throw new Error("the scratch database's leader lease is taken");
  return { name: "leader", holder: "bench", token: lease.token };
}

/** The newest 10 s bucket of every instance and the minute rows it feeds, as the instances leave them between two rollups. */
async function markNewestDirty(pool: pg.Pool): Promise<void> {
  await pool.query(
    `UPDATE metric_rollups SET dirty = true
     WHERE instance_id <> $1
       AND ((resolution = 10 AND bucket = (SELECT max(bucket) FROM metric_rollups WHERE resolution = 10))
         OR (resolution = 60 AND bucket = (SELECT max(bucket) FROM metric_rollups WHERE resolution = 60)))`,
    [FLEET_ROW_ID],
  );
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

export interface TimingRuns {
  warmup: number;
  runs: number;
}

async function time(
  run: () => Promise<unknown>,
  { warmup, runs }: TimingRuns = { warmup: WARMUP_RUNS, runs: RUNS },
): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95) };
}

function window(seconds: number, stepSeconds: number, now: number): TimeRange {
  // As the console asks (lib/control-plane/console/ranges.ts): up to the last 10 s bucket, the newest step partial.
  const stepMs = stepSeconds * 1000;
  const end = Math.floor(now / 10_000) * 10_000;
  const lastStepEnd = Math.ceil(end / stepMs) * stepMs;
  return { start: new Date(lastStepEnd - seconds * 1000), end: new Date(end), stepSeconds };
}

const tiers = (plan: Plan) => plan.parts.map((p) => `${p.resolution} s`).join(" + ");

export interface QueryTiming {
  range: string;
  query: string;
  resolution: string;
  points: number;
  p50: number;
  p95: number;
}

/** Times each overview query of each range, the whole overview as the console asks for it, and instance health. */
export async function timeOverview(pool: pg.Pool, now: number, runs?: TimingRuns): Promise<QueryTiming[]> {
  const retention = retentionSeconds(parseConfig({}));
  // Each query on its own: nothing shared between runs or with other queries.
  const source = new PostgresMetricsSource({ db: pool, retentionSeconds: retention, shareForMs: 0, now: () => now });

  const results: QueryTiming[] = [];
  for (const range of RANGES) {
    const w = window(range.seconds, range.stepSeconds, now);
    const plan = await source.plan(w);
    for (const query of OVERVIEW) {
      const figures = await time(() => source[query](w), runs);
      results.push({ range: range.name, query, resolution: tiers(plan), points: plan.grid.count, ...figures });
    }
    for (const query of SPANS) {
      const figures = await time(() => source[query](w), runs);
      results.push({ range: range.name, query, resolution: tiers(plan), points: 1, ...figures });
    }
    // As the console asks: every panel at once from one source, which reads the rows twice in all.
    const whole = await time(() => {
      const console = new PostgresMetricsSource({ db: pool, retentionSeconds: retention, now: () => now });
      return Promise.all([...OVERVIEW.map((q) => console[q](w)), ...SPANS.map((q) => console[q](w)), console.instanceHealth()]);
    });
    results.push({
      range: range.name,
      query: "whole overview (in parallel)",
      resolution: tiers(plan),
      points: plan.grid.count,
      ...whole,
    });
  }
  const health = await time(() => source.instanceHealth(), runs);
  results.push({ range: "now", query: "instanceHealth", resolution: "10 s", points: 0, ...health });
  return results;
}

/** What the table printed by printTimings says above it. */
export const TIMING_NOTE = `${RUNS} runs each after ${WARMUP_RUNS} warm-up runs; target p95 ≤ ${TARGET_P95_MS} ms per query`;

export function printTimings(results: QueryTiming[]): void {
  console.log(["range", "query", "rows read at", "points", "p50 ms", "p95 ms"].join("\t"));
  for (const r of results) console.log([r.range, r.query, r.resolution, r.points, r.p50.toFixed(1), r.p95.toFixed(1)].join("\t"));
}

/**
 * The leader's rollup job (lib/platform/metrics-history/jobs.ts) as it runs every ROLLUP_INTERVAL_MS
 * in steady state: the newest 10 s bucket of every instance and the 1 min rows it feeds are dirty.
 * Takes the leader lease in this (scratch) database for the fence. Returns p50/p95 of one run in ms.
 */
export async function timeRollupJob(pool: pg.Pool, runs = 20): Promise<{ p50: number; p95: number; rowsPerRun: number }> {
  const fence = await benchFence(pool);
  let rowsPerRun = 0;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await markNewestDirty(pool);
    const started = performance.now();
    rowsPerRun = 0;
    for (const [from, to] of ROLLUP_STEPS) {
      for (;;) {
        const claimed = await rollUp(pool, fence, from, to);
        if (claimed === null) throw new Error("fenced out of the scratch database");
        rowsPerRun += claimed;
        if (claimed < 5_000) break;
      }
    }
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), rowsPerRun };
}
