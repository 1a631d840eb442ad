// The two MetricsSources against the same known traffic. Two real server processes write their
// snapshots every second into a database of this file's own (so no other file's traffic is in the
// fleet's numbers); a real Prometheus (Debian package) scrapes them every second. The client sends
// a fixed mix for ~34 s — fast (30 ms) and slow (700 ms) simulator answers, injected upstream
// failures (5xx), unknown models (404), cacheable requests (hits and misses) — and counts what it
// was told: statuses, instances, cache headers. Then every query function of both sources is
// asked about a 50 s window holding that traffic, idle seconds on both sides.
//
// Tolerances, stated once:
// - PostgreSQL against the truth: exact for counts (requests, per instance, 5xx, cache hits and
//   misses, histogram observations). Its buckets hold whole snapshots, and the traffic stays
//   seconds away from the window's edges.
// - Prometheus against the truth and against PostgreSQL: 10 % for rates integrated over the
//   window; ±0.02 for ratios. rate() extrapolates each window from the first to the last scrape
//   in it, so counts come out a few percent off.
// - Percentiles: both within the histogram bucket holding the true latency (gateway overhead may
//   push a 30 ms answer into the next bucket), and within 10 % of each other.
// - Gauges sampled at different instants (CPU, memory, pool, connections, in-flight): close, as
//   each assertion says; in-flight is one higher in Prometheus, whose scrape counts itself.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/platform/config";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { getMetricsSource, retentionSeconds } from "../../lib/platform/metrics-history/query";
import { planGrid } from "../../lib/platform/metrics-history/query/grid";
import { PostgresMetricsSource } from "../../lib/platform/metrics-history/query/postgres";
import { PrometheusMetricsSource } from "../../lib/platform/metrics-history/query/prometheus";
import type { MetricsSource, Series, TimeRange } from "../../lib/platform/metrics-history/query/types";
import { memoryLimitBytes } from "../../lib/platform/metrics/process";
import { LATENCY_BOUNDS } from "../../lib/platform/metrics-history/layout";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const WINDOW_MS = 50_000;
const TRAFFIC_FROM_MS = 2_000;
const TRAFFIC_UNTIL_MS = 36_000;
const WORKERS_PER_INSTANCE = 2;

type Kind = "fast" | "slow" | "broken" | "unknown" | "cached";
// 20 requests: 9 fast, 4 slow, 2 broken, 1 unknown, 4 cacheable.
const CYCLE: Kind[] = [
  "fast",
  "slow",
  "cached",
  "fast",
  "broken",
  "fast",
  "cached",
  "slow",
  "fast",
  "unknown",
  "fast",
  "slow",
  "cached",
  "fast",
  "broken",
  "fast",
  "cached",
  "slow",
  "fast",
  "fast",
];

interface Outcome {
  kind: Kind;
  status: number;
  instance: string;
  cache: string | null;
}

let scratch: ScratchDatabase;
let database: Database;
let servers: ServerProcess[] = [];
let prometheus: PrometheusProcess | undefined;
let key: string;
let postgresSource: PostgresMetricsSource;
let prometheusSource: PrometheusMetricsSource;
let fine: TimeRange;
let whole: TimeRange;
let before: TimeRange;
const outcomes: Outcome[] = [];
/** What each source said next to the truth, printed once at the end for the record. */
const figures: Record<string, unknown> = {};

// ---- a Prometheus of our own: temp config and storage, loopback port, stopped by its PID ----

interface PrometheusProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startPrometheus(targets: string[]): Promise<PrometheusProcess> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "agenticorp-prometheus-"));
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  evaluation_interval: 1s",
    "rule_files:",
    `  - ${JSON.stringify(path.join(PROJECT_ROOT, "deploy/prometheus/alerts.yml"))}`,
    "scrape_configs:",
    "  - job_name: agenticorp",
    "    static_configs:",
    `      - targets: ${JSON.stringify(targets)}`,
  ].join("\n");
  await writeFile(path.join(dir, "prometheus.yml"), config);
  const port = await freePort();
  const child = spawn(
    "prometheus",
    [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=warn",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error("prometheus is not installed (Debian package prometheus): run scripts/install-system-deps.sh")
          : error,
      ),
    ),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const ready = (async () => {
    for (const started = Date.now(); Date.now() - started < 30_000; await sleep(200)) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${output.slice(-2000)}`);
      const response = await fetch(`${url}/-/ready`).catch(() => null);
      if (response?.ok) return;
    }
    throw new Error(`prometheus not ready within 30 s: ${output.slice(-2000)}`);
  })();
  try {
    await Promise.race([ready, spawnFailed]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, child, output: () => output, stop };
}

async function promQuery(
  url: string,
  query: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await response.json()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return body.data.result;
}

// ---- traffic ----

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sleepUntil = (at: number) => sleep(Math.max(0, at - Date.now()));

const MODELS: Record<Exclude<Kind, "cached">, string> = {
  fast: "obs-fast",
  slow: "obs-slow",
  broken: "obs-broken",
  unknown: "obs-nonexistent",
};

async function send(server: ServerProcess, kind: Kind, prompt: string): Promise<Outcome> {
  const body =
    kind === "cached"
      ? { model: "obs-fast", temperature: 0, messages: [{ role: "user", content: prompt }] }
      : { model: MODELS[kind], temperature: 0.7, messages: [{ role: "user", content: prompt }] };
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return {
    kind,
    status: response.status,
    instance: response.headers.get("x-agenticorp-instance") ?? "",
    cache: response.headers.get("x-agenticorp-cache"),
  };
}

async function worker(id: number, server: ServerProcess, until: number, record: boolean): Promise<void> {
  // Bounded by time and by count.
  for (let k = 0; Date.now() < until && k < 5_000; k++) {
    const kind = CYCLE[(k + id * 5) % CYCLE.length]!;
    // One cacheable prompt per worker and cycle, sent to the same instance each time it comes up:
    // the first a miss, the others hits.
    const prompt = kind === "cached" ? `cached ${id} ${Math.floor(k / CYCLE.length)}` : `hello ${id} ${k}`;
    const outcome = await send(server, kind, prompt);
    if (record) outcomes.push(outcome);
  }
}

function truth() {
  const count = (predicate: (o: Outcome) => boolean) => outcomes.filter(predicate).length;
  return {
    total: outcomes.length,
    byInstance: Object.fromEntries(servers.map((s) => [s.instanceId, count((o) => o.instance === s.instanceId)])),
    errors: count((o) => o.status >= 500),
    clientErrors: count((o) => o.status >= 400 && o.status < 500),
    successes: count((o) => o.status === 200),
    hits: count((o) => o.cache === "hit"),
    misses: count((o) => o.cache === "miss"),
    slow: count((o) => o.kind === "slow" && o.status === 200),
  };
}

/** Σ value × step: a rate series turned back into a count. */
function integrate(series: Series | undefined, stepSeconds: number): number {
  return (series?.points ?? []).reduce((sum, p) => sum + (p.v ?? 0) * stepSeconds, 0);
}

const only = (series: Series[], name: string) => series.find((s) => s.name === name)?.points[0]?.v ?? null;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_sources_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 3 });
  const simulator = (name: string, model: string, latencyMs: number, errorRate: number) =>
    createProvider(
      database.prisma,
      {
        kind: "simulator",
        name,
        settings: {
          latencyMs: { median: latencyMs, p99: latencyMs },
          tokensPerSecond: 0,
          errorRate,
          answerWords: 5,
          timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 10_000 },
        },
        deployments: [{ modelName: model, upstreamModel: model }],
      },
      SECRET,
    );
  await simulator("fast", "obs-fast", 30, 0);
  await simulator("slow", "obs-slow", 700, 0);
  await simulator("broken", "obs-broken", 20, 1);
  key = (await createApiKey(database.prisma, { name: "sources" })).key;

  const serversStartedAt = Date.now();
  const env = {
    DATABASE_URL: scratch.url,
    CONSOLE_ENABLED: "false",
    SECRET,
    SNAPSHOT_INTERVAL_MS: "1000",
    ROUTER_MAX_ATTEMPTS: "1",
    // Failures stay 502s from the upstream rather than turning into 503s of an open circuit.
    CIRCUIT_FAILURE_THRESHOLD: "1000",
    DRAIN_TIMEOUT_MS: "2000",
    ROLLUP_INTERVAL_MS: "2000",
  };
  servers = await Promise.all([startServer({ env }), startServer({ env })]);
  prometheus = await startPrometheus(servers.map((s) => new URL(s.url).host));

  for (const started = Date.now(); ; await sleep(250)) {
    const up = await promQuery(prometheus.url, 'up{job="agenticorp"} == 1');
    if (up.length === servers.length) break;
    if (Date.now() - started > 20_000)
      throw new Error(`Prometheus did not scrape both instances: ${prometheus.output().slice(-2000)}`);
  }

  // Warm-up: every series the window uses exists in Prometheus before it starts (rate() cannot
  // count the increments that create a series), and is not part of the truth.
  for (const server of servers)
    for (const kind of ["fast", "slow", "broken", "unknown", "cached", "cached"] as Kind[]) await send(server, kind, "warm up");
  await sleep(3_000);

  const start = Math.ceil((Date.now() + 2_000) / 10_000) * 10_000;
  const end = start + WINDOW_MS;
  fine = { start: new Date(start), end: new Date(end), stepSeconds: 10 };
  whole = { start: new Date(start), end: new Date(end), stepSeconds: WINDOW_MS / 1000 };
  const beforeServersEnd = Math.floor(serversStartedAt / 10_000) * 10_000 - 10_000;
  before = { start: new Date(beforeServersEnd - 60_000), end: new Date(beforeServersEnd), stepSeconds: 10 };

  await sleepUntil(start + TRAFFIC_FROM_MS);
  await Promise.all(
    servers.flatMap((server, s) =>
      Array.from({ length: WORKERS_PER_INSTANCE }, (_, w) =>
        worker(s * WORKERS_PER_INSTANCE + w, server, start + TRAFFIC_UNTIL_MS, true),
      ),
    ),
  );
  expect(Date.now()).toBeLessThan(end - 5_000);
  // The last snapshots (every second) and scrapes (every second) of the window are in.
  await sleepUntil(end + 3_000);

  postgresSource = new PostgresMetricsSource({ db: database.pool, retentionSeconds: retentionSeconds(parseConfig({})) });
  prometheusSource = new PrometheusMetricsSource({ url: prometheus.url, scrapeIntervalSeconds: 1, db: database.pool });
}, 180_000);

afterAll(async () => {
  if (Object.keys(figures).length > 0) console.info(`metrics sources over the same traffic: ${JSON.stringify(figures)}`);
  await Promise.all(servers.map((s) => s.stop("SIGTERM")));
  await prometheus?.stop();
  await database?.close();
  await scratch?.drop();
}, 60_000);

const FUNCTIONS = [
  "requestRate",
  "requestRateByEndpoint",
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
] as const;
const RATIOS = new Set<string>(["latencyPercentiles", "errorRate", "cacheHitRate"]);
/** Functions with a series per instance, or per endpoint that served requests: none before anything existed. */
const PER_SERVER = new Set<string>([
  "requestRateByInstance",
  "requestRateByEndpoint",
  "inFlight",
  "activeConnections",
  "cpuUtilisation",
  "memoryBytes",
  "memoryUtilisation",
]);

describe("both metrics sources over the same traffic", () => {
  it("sent the traffic the window needs", () => {
    const t = truth();
    expect(t.total).toBeGreaterThan(200);
    expect(t.errors).toBeGreaterThan(10);
    expect(t.hits).toBeGreaterThan(5);
    expect(t.misses).toBeGreaterThan(5);
    expect(t.slow).toBeGreaterThan(20);
    for (const server of servers) expect(t.byInstance[server.instanceId]).toBeGreaterThan(50);
  });

  it.each(FUNCTIONS)("%s answers on the same grid from both sources", async (name) => {
    const grid = planGrid(fine);
    const [fromPostgres, fromPrometheus] = await Promise.all([postgresSource[name](fine), prometheusSource[name](fine)]);
    // Ratios of requests have no value in the idle last step (0 ÷ 0); everything else has one in
    // every step, the window being inside both instances' lives.
    const expected = RATIOS.has(name) ? [true, true, true, true, false] : [true, true, true, true, true];
    expect(grid.count).toBe(expected.length);
    for (const answer of [fromPostgres, fromPrometheus]) {
      expect(answer.length).toBeGreaterThan(0);
      for (const series of answer) {
        expect(series.points.map((p) => p.t)).toEqual(Array.from({ length: grid.count }, (_, i) => grid.startMs + i * 10_000));
        const hasValue = series.points.map((p) => p.v !== null);
        if (series.name === "served_per_second") expect(hasValue).toEqual([true, true, true, true, true]);
        else expect(hasValue).toEqual(expected);
      }
    }
    expect(fromPrometheus.map((s) => s.name).sort()).toEqual(fromPostgres.map((s) => s.name).sort());
  });

  it.each(FUNCTIONS)("%s has gaps, not zeros, before any instance existed", async (name) => {
    for (const source of [postgresSource, prometheusSource] as MetricsSource[]) {
      const answer = await source[name](before);
      // Fleet-wide functions still name their series; per-instance and per-endpoint ones have nothing to name.
      expect(answer.length === 0, `${source.kind}: no series`).toBe(PER_SERVER.has(name));
      for (const series of answer) expect(series.points.every((p) => p.v === null)).toBe(true);
    }
  });

  it("counts every completion request: PostgreSQL exactly, Prometheus within 10 %", async () => {
    const t = truth();
    const [pgFine, promFine, pgWhole, promWhole] = await Promise.all([
      postgresSource.requestRate(fine),
      prometheusSource.requestRate(fine),
      postgresSource.requestRate(whole),
      prometheusSource.requestRate(whole),
    ]);
    figures.requests = {
      truth: t.total,
      postgres: integrate(pgWhole[0], 50),
      prometheus: integrate(promWhole[0], 50),
      prometheusTenSecondSteps: integrate(promFine[0], 10),
    };
    expect(integrate(pgFine[0], 10)).toBeCloseTo(t.total, 6);
    expect(integrate(pgWhole[0], 50)).toBeCloseTo(t.total, 6);
    expect(Math.abs(integrate(promFine[0], 10) - t.total) / t.total).toBeLessThan(0.1);
    expect(Math.abs(integrate(promWhole[0], 50) - t.total) / t.total).toBeLessThan(0.1);
  });

  it("answers a range ending inside a step on the same grid, the partial step at its own rate", async () => {
    const t = truth();
    // Two 30 s steps, the second 20 s long: the traffic (2–36 s) ends inside it.
    const partial = { start: whole.start, end: whole.end, stepSeconds: 30 };
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.requestRate(partial),
      prometheusSource.requestRate(partial),
    ]);
    const times = [whole.start.getTime(), whole.start.getTime() + 30_000];
    const count = (series: Series | undefined) =>
      (series?.points ?? []).reduce((sum, p, i) => sum + (p.v ?? 0) * (i === 0 ? 30 : 20), 0);
    for (const answer of [fromPostgres, fromPrometheus]) expect(answer[0]!.points.map((p) => p.t)).toEqual(times);
    figures.partialStep = { truth: t.total, postgres: count(fromPostgres[0]), prometheus: count(fromPrometheus[0]) };
    expect(count(fromPostgres[0])).toBeCloseTo(t.total, 6);
    expect(Math.abs(count(fromPrometheus[0]) - t.total) / t.total).toBeLessThan(0.1);
  });

  it("counts requests by endpoint: all of this traffic to chat completions", async () => {
    const t = truth();
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.requestRateByEndpoint(whole),
      prometheusSource.requestRateByEndpoint(whole),
    ]);
    expect(fromPostgres.map((s) => s.name)).toEqual(["chat"]);
    expect(fromPrometheus.map((s) => s.name)).toEqual(["chat"]);
    expect(integrate(fromPostgres[0], 50)).toBeCloseTo(t.total, 6);
    expect(Math.abs(integrate(fromPrometheus[0], 50) - t.total) / t.total).toBeLessThan(0.1);
  });

  it("counts each instance's requests: PostgreSQL exactly, Prometheus within 10 %", async () => {
    const t = truth();
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.requestRateByInstance(whole),
      prometheusSource.requestRateByInstance(whole),
    ]);
    for (const server of servers) {
      const sent = t.byInstance[server.instanceId]!;
      expect(
        integrate(
          fromPostgres.find((s) => s.name === server.instanceId),
          50,
        ),
      ).toBeCloseTo(sent, 6);
      expect(
        Math.abs(
          integrate(
            fromPrometheus.find((s) => s.name === server.instanceId),
            50,
          ) - sent,
        ) / sent,
      ).toBeLessThan(0.1);
    }
  });

  it("agrees on the error rates with the shares of 5xx and of 4xx the client saw", async () => {
    const t = truth();
    const expected = t.errors / t.total;
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.errorRate(whole),
      prometheusSource.errorRate(whole),
    ]);
    figures.errorRate = { truth: expected, postgres: only(fromPostgres, "5xx"), prometheus: only(fromPrometheus, "5xx") };
    expect(only(fromPostgres, "5xx")).toBeCloseTo(expected, 9);
    expect(Math.abs(only(fromPrometheus, "5xx")! - expected)).toBeLessThan(0.02);
    expect(t.clientErrors).toBeGreaterThan(5);
    expect(only(fromPostgres, "4xx")).toBeCloseTo(t.clientErrors / t.total, 9);
    expect(Math.abs(only(fromPrometheus, "4xx")! - t.clientErrors / t.total)).toBeLessThan(0.02);
  });

  it("agrees on the cache: hit rate and hits served", async () => {
    const t = truth();
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.cacheHitRate(whole),
      prometheusSource.cacheHitRate(whole),
    ]);
    figures.cacheHitRate = {
      truth: t.hits / t.total,
      postgres: only(fromPostgres, "hit_rate"),
      prometheus: only(fromPrometheus, "hit_rate"),
    };
    // Served from cache, of all requests; and the narrower share of the cacheable ones.
    expect(only(fromPostgres, "hit_rate")).toBeCloseTo(t.hits / t.total, 9);
    expect(Math.abs(only(fromPrometheus, "hit_rate")! - t.hits / t.total)).toBeLessThan(0.02);
    expect(only(fromPostgres, "cacheable_hit_rate")).toBeCloseTo(t.hits / (t.hits + t.misses), 9);
    expect(only(fromPostgres, "served_per_second")! * 50).toBeCloseTo(t.hits, 6);
    expect(Math.abs(only(fromPrometheus, "cacheable_hit_rate")! - t.hits / (t.hits + t.misses))).toBeLessThan(0.02);
    expect(Math.abs(only(fromPrometheus, "served_per_second")! * 50 - t.hits) / t.hits).toBeLessThan(0.1);
  });

  it("totals the window: PostgreSQL exactly, Prometheus within 10 %", async () => {
    const t = truth();
    const [fromPostgres, fromPrometheus] = await Promise.all([postgresSource.totals(whole), prometheusSource.totals(whole)]);
    figures.totals = { truth: t, postgres: fromPostgres, prometheus: fromPrometheus };
    expect(fromPostgres).toMatchObject({
      requests: t.total,
      requests5xx: t.errors,
      requests4xx: t.clientErrors,
      cacheHits: t.hits,
      cacheMisses: t.misses,
    });
    const near = (a: number, b: number) => Math.abs(a - b) / b;
    expect(near(fromPrometheus.requests, t.total)).toBeLessThan(0.1);
    expect(near(fromPrometheus.requests5xx, t.errors)).toBeLessThan(0.1);
    expect(near(fromPrometheus.cacheHits, t.hits)).toBeLessThan(0.15);
    // Both p95s from the same merged histogram: within 10 % of each other.
    expect(fromPostgres.latencyP95Seconds).not.toBeNull();
    expect(near(fromPrometheus.latencyP95Seconds!, fromPostgres.latencyP95Seconds!)).toBeLessThan(0.1);
  });

  it("finds the peak at the finest resolution each source has, and names it", async () => {
    const t = truth();
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.peakRequestRate(whole),
      prometheusSource.peakRequestRate(whole),
    ]);
    figures.peak = { postgres: fromPostgres, prometheus: fromPrometheus };
    const fine10 = await postgresSource.requestRate(fine);
    expect(fromPostgres.resolutionSeconds).toBe(10);
    expect(fromPostgres.perSecond).toBe(Math.max(...fine10[0]!.points.map((p) => p.v ?? 0)));
    // The peak is at least the window's mean rate and the busiest step's share of the traffic.
    expect(fromPostgres.perSecond!).toBeGreaterThanOrEqual(t.total / 50);
    expect(fromPrometheus.resolutionSeconds).toBe(4);
    expect(fromPrometheus.perSecond!).toBeGreaterThanOrEqual((t.total / 50) * 0.9);
  });

  it("computes percentiles from merged buckets, in the bucket of the true latency, alike in both", async () => {
    const t = truth();
    // Every answered request is one observation in the merged histogram of the window.
    const { rows } = await database.pool.query<{ observations: number }>(
      `SELECT sum(v)::float8 AS observations FROM metric_rollups, unnest(latency_buckets) AS v
       WHERE resolution = 10 AND instance_id <> '*' AND bucket >= $1 AND bucket < $2`,
      [fine.start, fine.end],
    );
    expect(rows[0]!.observations).toBe(t.successes);
    // 4 of every 17 answers are slow (700 ms): p95 and p99 fall among them, p50 among the fast ones.
    expect(t.slow / t.successes).toBeGreaterThan(0.15);
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.latencyPercentiles(whole),
      prometheusSource.latencyPercentiles(whole),
    ]);
    const bucketOf = (seconds: number) => [
      LATENCY_BOUNDS.filter((b) => b < seconds).at(-1) ?? 0,
      LATENCY_BOUNDS.find((b) => b >= seconds)!,
    ];
    const [fastLow] = bucketOf(0.03);
    const [slowLow, slowHigh] = bucketOf(0.7);
    for (const answer of [fromPostgres, fromPrometheus]) {
      expect(only(answer, "p50")).toBeGreaterThan(fastLow!);
      expect(only(answer, "p50")).toBeLessThanOrEqual(0.1); // 30 ms plus at most one bucket of overhead
      for (const q of ["p95", "p99"]) {
        expect(only(answer, q)).toBeGreaterThan(slowLow!);
        expect(only(answer, q)).toBeLessThanOrEqual(slowHigh!);
      }
    }
    figures.latency = Object.fromEntries(
      ["p50", "p95", "p99"].map((q) => [q, { postgres: only(fromPostgres, q), prometheus: only(fromPrometheus, q) }]),
    );
    for (const q of ["p50", "p95", "p99"]) {
      const a = only(fromPostgres, q)!;
      const b = only(fromPrometheus, q)!;
      expect(Math.abs(a - b) / a).toBeLessThan(0.1);
    }
  });

  it("agrees on CPU, memory and memory share per instance", async () => {
    const [pgCpu, promCpu, pgMemory, promMemory, pgShare, promShare] = await Promise.all([
      postgresSource.cpuUtilisation(whole),
      prometheusSource.cpuUtilisation(whole),
      postgresSource.memoryBytes(whole),
      prometheusSource.memoryBytes(whole),
      postgresSource.memoryUtilisation(whole),
      prometheusSource.memoryUtilisation(whole),
    ]);
    for (const server of servers) {
      const cpu = [only(pgCpu, server.instanceId)!, only(promCpu, server.instanceId)!];
      // Serving ~10 requests a second takes some CPU, and no more than the two cores there are.
      for (const value of cpu) expect(value).toBeGreaterThan(0.5);
      for (const value of cpu) expect(value).toBeLessThan(200);
      expect(Math.abs(cpu[0]! - cpu[1]!)).toBeLessThan(Math.max(5, 0.25 * cpu[0]!));
      const memory = [only(pgMemory, server.instanceId)!, only(promMemory, server.instanceId)!];
      for (const value of memory) expect(value).toBeGreaterThan(50 * 2 ** 20);
      for (const value of memory) expect(value).toBeLessThan(2 * 2 ** 30);
      expect(Math.abs(memory[0]! - memory[1]!) / memory[0]!).toBeLessThan(0.1);
      const share = [only(pgShare, server.instanceId)!, only(promShare, server.instanceId)!];
      // Same machine and cgroup as the servers, so the same limit.
      const expectedShare = (100 * memory[0]!) / memoryLimitBytes();
      expect(Math.abs(share[0]! - expectedShare)).toBeLessThan(0.01 * expectedShare);
      expect(Math.abs(share[0]! - share[1]!)).toBeLessThan(0.1 * share[0]! + 0.01);
    }
  });

  it("agrees on in-flight requests and open connections per instance", async () => {
    const [pgInFlight, promInFlight, pgConnections, promConnections] = await Promise.all([
      postgresSource.inFlight(whole),
      prometheusSource.inFlight(whole),
      postgresSource.activeConnections(whole),
      prometheusSource.activeConnections(whole),
    ]);
    for (const server of servers) {
      const inFlight = only(pgInFlight, server.instanceId)!;
      // Two workers per instance, busy ~34 s of the 50: on average between 0.5 and 2 in flight.
      expect(inFlight).toBeGreaterThan(0.5);
      expect(inFlight).toBeLessThanOrEqual(WORKERS_PER_INSTANCE);
      expect(Math.abs(only(promInFlight, server.instanceId)! - (inFlight + 1))).toBeLessThan(0.5);
      const connections = only(pgConnections, server.instanceId)!;
      // The workers' keep-alive connections and Prometheus' own.
      expect(connections).toBeGreaterThanOrEqual(1);
      expect(Math.abs(only(promConnections, server.instanceId)! - connections)).toBeLessThan(0.75);
    }
  });

  it("agrees on database performance", async () => {
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.databasePerformance(whole),
      prometheusSource.databasePerformance(whole),
    ]);
    const p95 = [only(fromPostgres, "query_p95_seconds")!, only(fromPrometheus, "query_p95_seconds")!];
    for (const value of p95) expect(value).toBeGreaterThan(0);
    expect(p95[1]! / p95[0]!).toBeGreaterThan(0.5);
    expect(p95[1]! / p95[0]!).toBeLessThan(2);
    const total = only(fromPostgres, "pool_total")!;
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(2 * 5); // two instances, DB_POOL_MAX 5
    expect(Math.abs(only(fromPrometheus, "pool_total")! - total)).toBeLessThan(1);
    expect(Math.abs(only(fromPrometheus, "pool_in_use")! - only(fromPostgres, "pool_in_use")!)).toBeLessThan(1);
    // Completions never touch the database, so nothing queues for a connection: 0, give or take a
    // background job caught waiting in one snapshot.
    expect(only(fromPostgres, "pool_waiting")).toBeLessThan(0.5);
    expect(Math.abs(only(fromPrometheus, "pool_waiting")! - only(fromPostgres, "pool_waiting")!)).toBeLessThan(0.5);
  });

  it("reports the same instances, healthy and serving, from both", async () => {
    const [fromPostgres, fromPrometheus] = await Promise.all([
      postgresSource.instanceHealth(),
      prometheusSource.instanceHealth(),
    ]);
    for (const answer of [fromPostgres, fromPrometheus]) {
      expect(answer.map((i) => i.id).sort()).toEqual(servers.map((s) => s.instanceId).sort());
      for (const instance of answer) {
        expect(instance.status).toBe("healthy");
        expect(instance.requestsPerSecond).toBeGreaterThan(0);
        expect(instance.cpuPercent).toBeGreaterThan(0);
        expect(instance.rssBytes).toBeGreaterThan(50 * 2 ** 20);
        expect(instance.inFlight).not.toBeNull();
      }
    }
  });

  it("chooses Prometheus when PROMETHEUS_URL is set, the rollups otherwise", () => {
    expect(getMetricsSource(parseConfig({ PROMETHEUS_URL: prometheus!.url }), database.pool).kind).toBe("prometheus");
    expect(getMetricsSource(parseConfig({}), database.pool).kind).toBe("postgres");
  });
});
