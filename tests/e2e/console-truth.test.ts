// Console truth: every tile and chart at every range agrees with a known truth. Two real server
// processes share a database of this file's own; the test sends them a known mix (successes,
// unknown models → 404, a failing upstream → 502, cacheable requests → misses then hits) and
// counts what the clients were told. Older traffic is written directly as the rollups the
// instances and the leader would have left hours and days ago (stand-ins for time we cannot
// wait for): 3 h ago in 10 s rows and their 1 min and 10 min rollups, 10 h ago in 1 min and
// 10 min rows, 3 days ago a heavy minute in 1 min and 10 min rows, 10 days ago in 10 min rows.
// Each range is read through the console's API (exact counts, rates integrated over the seconds
// they average) and spot-checked in Chromium, the range travelling in the URL.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RANGES, type OverviewResponse, type RangeKey } from "../../lib/control-plane/console/contracts";
import { formatCount } from "../../lib/control-plane/console/charts";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { createUser } from "../../lib/control-plane/users/users";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { launchChromium, signIn } from "../helpers/console-browser";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { insertRollupRows, requestsOf, type RollupRow } from "../helpers/rollup-rows";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const OPERATOR = { email: "sre@example.test", password: "sre-password-123" };
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const floorTo = (ms: number, to: number) => Math.floor(ms / to) * to;

type Kind = "ok" | "unknown" | "broken" | "cached";
// Per instance: 24 successes, 4 unknown models, 3 upstream failures, 6 cacheable (2 prompts × 3).
const MIX: Kind[] = [
  ...Array<Kind>(24).fill("ok"),
  ...Array<Kind>(4).fill("unknown"),
  ...Array<Kind>(3).fill("broken"),
  ...Array<Kind>(6).fill("cached"),
];
const MODELS: Record<Kind, string> = { ok: "truth-fast", unknown: "no-such-model", broken: "truth-broken", cached: "truth-fast" };

interface Outcome {
  status: number;
  instance: string;
  cache: string | null;
}

let scratch: ScratchDatabase;
let database: Database;
let servers: ServerProcess[] = [];
let browser: Browser;
let key: string;
const outcomes: Outcome[] = [];
let seeded: RollupRow[] = [];
let d3 = 0;

async function send(server: ServerProcess, kind: Kind, n: number): Promise<Outcome> {
  const prompt = kind === "cached" ? `cached ${server.instanceId} ${n % 2}` : `hello ${server.instanceId} ${n}`;
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: MODELS[kind],
      temperature: kind === "cached" ? 0 : 0.7,
      messages: [{ role: "user", content: prompt }],
    }),
  });
  await response.arrayBuffer();
  return {
    status: response.status,
    instance: response.headers.get("x-agenticorp-instance") ?? "",
    cache: response.headers.get("x-agenticorp-cache"),
  };
}

function truth() {
  const count = (predicate: (o: Outcome) => boolean) => outcomes.filter(predicate).length;
  return {
    requests: outcomes.length,
    requests4xx: count((o) => o.status >= 400 && o.status < 500),
    requests5xx: count((o) => o.status >= 500),
    cacheHits: count((o) => o.cache === "hit"),
    cacheMisses: count((o) => o.cache === "miss"),
    byInstance: Object.fromEntries(servers.map((s) => [s.instanceId, count((o) => o.instance === s.instanceId)])),
  };
}

/** What the window [start, end) holds: the live traffic plus the seeded rows inside it, each counted once. */
function expectedRequests(overview: OverviewResponse): number {
  // The seeded 3 h traffic is in three tiers; one tier's rows stand for it (the 1 min rows).
  const logical = seeded.filter(
    (r) =>
      r.resolution === 60 ||
      (r.resolution === 600 &&
        !seeded.some((o) => o.resolution === 60 && o.instanceId === r.instanceId && Math.abs(o.bucket - r.bucket) < 10 * MIN)),
  );
  return (
    truth().requests +
    logical.filter((r) => r.bucket >= overview.start && r.bucket < overview.end).reduce((sum, r) => sum + requestsOf(r), 0)
  );
}

/** A rate series back into a count: each point times the seconds of its step inside the window. */
function integrate(points: Array<{ t: number; v: number | null }>, overview: OverviewResponse): number {
  return points.reduce((sum, p) => sum + (p.v ?? 0) * Math.min(overview.stepSeconds, (overview.end - p.t) / 1000), 0);
}

const seriesOf = (panel: OverviewResponse["requestRate"]) => ("series" in panel ? panel.series : []);

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_truth_e2e_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  await createUser(database.prisma, { ...OPERATOR, role: "operator" });
  const simulator = (name: string, model: string, errorRate: number) =>
    createProvider(
      database.prisma,
      {
        kind: "simulator",
        name,
        settings: {
          latencyMs: { median: 15, p99: 15 },
          tokensPerSecond: 0,
          errorRate,
          answerWords: 5,
          timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 10_000 },
        },
        deployments: [{ modelName: model, upstreamModel: model }],
      },
      SECRET,
    );
  await simulator("truth-fast", "truth-fast", 0);
  await simulator("truth-broken", "truth-broken", 1);
  key = (await createApiKey(database.prisma, { name: "truth" })).key;

  const now = Date.now();
  const h3 = floorTo(now - 3 * HOUR, 10 * MIN);
  const h10 = floorTo(now - 10 * HOUR, 10 * MIN);
  d3 = floorTo(now - 3 * DAY, 10 * MIN);
  seeded = ["old-a", "old-b"].flatMap((instanceId) => [
    ...Array.from({ length: 6 }, (_, k) => ({
      resolution: 10 as const,
      instanceId,
      bucket: h3 + k * 10_000,
      requests2xx: 20,
      dirty: false,
    })),
    { resolution: 60, instanceId, bucket: h3, requests2xx: 120 },
    { resolution: 600, instanceId, bucket: h3, requests2xx: 120 },
    { resolution: 60, instanceId, bucket: h10, requests2xx: 30 },
    { resolution: 60, instanceId, bucket: h10 + MIN, requests2xx: 30 },
    { resolution: 600, instanceId, bucket: h10, requests2xx: 60 },
    { resolution: 60, instanceId, bucket: d3, requests2xx: 6_000 },
    { resolution: 600, instanceId, bucket: d3, requests2xx: 6_000 },
    { resolution: 600, instanceId, bucket: floorTo(now - 10 * DAY, 10 * MIN), requests2xx: 60_000 },
  ]);
  await insertRollupRows(database.pool, seeded);

  const env = {
    DATABASE_URL: scratch.url,
    SECRET,
    SNAPSHOT_INTERVAL_MS: "2000",
    ROLLUP_INTERVAL_MS: "2000",
    ROUTER_MAX_ATTEMPTS: "1",
    // Failures stay 502s from the upstream rather than 503s of an open circuit.
    CIRCUIT_FAILURE_THRESHOLD: "1000",
    DRAIN_TIMEOUT_MS: "2000",
  };
  servers = await Promise.all([startServer({ env }), startServer({ env: { ...env, CONSOLE_ENABLED: "false" } })]);
  // Keys reach the instances within a second of creation (embedded defaults re-read every second).
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await Promise.all(
    servers.map(async (server) => {
      for (const [n, kind] of MIX.entries()) outcomes.push(await send(server, kind, n));
    }),
  );
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.stop()));
  await database?.close();
  await scratch?.drop();
}, 60_000);

describe("the console tells the truth at every range", () => {
  it("sent the known mix", () => {
    const t = truth();
    expect(t.requests).toBe(2 * MIX.length);
    expect(t.requests4xx).toBe(2 * 4);
    expect(t.requests5xx).toBe(2 * 3);
    expect(t.cacheMisses + t.cacheHits).toBe(2 * 6);
    expect(t.cacheHits).toBeGreaterThan(0);
    for (const server of servers) expect(t.byInstance[server.instanceId]).toBe(MIX.length);
  });

  it("agrees with the truth in every tile and chart, through the API and in Chromium", async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    try {
      await signIn(page, servers[0]!.url, OPERATOR.email, OPERATOR.password);
      const overview = async (range: RangeKey): Promise<OverviewResponse> =>
        (await page.request.get(`${servers[0]!.url}/api/console/overview?range=${range}`)).json();
      const t = truth();
      // Snapshots reach PostgreSQL every 2 s: wait until the live traffic is all counted.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const first = await overview("15m");
        if (!("error" in first.summary) && first.summary.range.requests >= t.requests) break;
        if (Date.now() > deadline)
          throw new Error(`the live traffic was not counted within 30 s: ${JSON.stringify(first.summary)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }

      const answers = Object.fromEntries(
        await Promise.all(RANGES.map(async (range) => [range, await overview(range)] as const)),
      ) as Record<RangeKey, OverviewResponse>;
      for (const range of RANGES) {
        const o = answers[range];
        if ("error" in o.summary) throw new Error(`${range}: ${o.summary.error}`);
        const expected = expectedRequests(o);
        // Exact counts over the window, every status class and cache outcome.
        expect(o.summary.range, range).toMatchObject({
          requests: expected,
          requests4xx: t.requests4xx,
          requests5xx: t.requests5xx,
          cacheHits: t.cacheHits,
          cacheMisses: t.cacheMisses,
        });
        // The request chart adds up to the same count (rates over the seconds of each step inside the window).
        const total = seriesOf(o.requestRate).find((s) => s.name === "total")!;
        expect(integrate(total.points, o), range).toBeCloseTo(expected, 6);
        const byEndpoint = seriesOf(o.requestRateByEndpoint).find((s) => s.name === "chat")!;
        expect(integrate(byEndpoint.points, o), range).toBeCloseTo(expected, 6);
        for (const server of servers) {
          const mine = seriesOf(o.requestRateByInstance).find((s) => s.name === server.instanceId)!;
          expect(integrate(mine.points, o), `${range} ${server.instanceId}`).toBeCloseTo(t.byInstance[server.instanceId]!, 6);
        }
        expect(
          seriesOf(o.errorRate)
            .map((s) => s.name)
            .sort(),
        ).toEqual(["4xx", "5xx"]);
        expect(
          seriesOf(o.cache)
            .map((s) => s.name)
            .sort(),
        ).toEqual(["cacheable_hit_rate", "hit_rate", "served_per_second"]);
        // Gaps, not zeros: no step before the seeded traffic holds a value.
        const firstSeeded = Math.min(...seeded.filter((r) => r.bucket >= o.start).map((r) => r.bucket), Infinity);
        const beforeAny = total.points.filter((p) => p.t + o.stepSeconds * 1000 <= Math.min(firstSeeded, Date.now() - 10 * MIN));
        expect(
          beforeAny.every((p) => p.v === null),
          range,
        ).toBe(true);
      }
      // Longer ranges add older traffic; the 7 days include the system's whole recent life.
      expect(answers["7d"].summary).toMatchObject({ range: { requests: t.requests + 2 * (120 + 60 + 6_000) } });

      // The "latest" tiles read the same windows at every range (same end: same numbers).
      const ends = new Set(RANGES.map((r) => answers[r].end));
      if (ends.size === 1) {
        const recent = RANGES.map((r) => answers[r].summary).map((s) =>
          "error" in s ? s : { rate: s.recentRate, latency: s.recentLatency },
        );
        for (const r of recent) expect(r).toEqual(recent[0]);
      }
      // Peaks: never lower for a longer range; each names its resolution. A week back, the heaviest
      // minute of 3 days ago is kept only as 1 min rows.
      const peaks = RANGES.map((r) => answers[r].summary).map((s) => ("error" in s ? null : s.peak));
      for (let i = 1; i < peaks.length; i++) expect(peaks[i]!.perSecond!).toBeGreaterThanOrEqual(peaks[i - 1]!.perSecond!);
      for (const peak of peaks.slice(0, 4)) expect(peak!.resolutionSeconds).toBe(10);
      expect(peaks[4]).toEqual({ perSecond: (2 * 6_000) / 60, resolutionSeconds: 60, at: d3 });

      // Chromium: the range in the URL, the tiles naming their windows and matching the API.
      await page.goto(`${servers[0]!.url}/?range=7d`);
      const tile = (id: string) => page.getByTestId(id);
      /** Waits until the visible tile reads `text` (streamed HTML holds hidden copies until React swaps them in). */
      const shows = (id: string, text: string) =>
        page.waitForFunction(
          ([testId, expected]) =>
            [...document.querySelectorAll(`[data-testid="${testId}"]`)].some(
              (e) => (e as HTMLElement).offsetParent !== null && e.textContent === expected,
            ),
          [id, text] as const,
        );
      await expect(page.getByLabel("Time range").inputValue()).resolves.toBe("7d");
      await shows("stat-requests", formatCount(expectedRequests(answers["7d"])));
      await expect(
        page
          .locator(".stat", { has: tile("stat-requests") })
          .locator(".stat-label")
          .textContent(),
      ).resolves.toBe("Requests (last 7 days)");
      await expect(
        page
          .locator(".stat", { has: tile("stat-peak") })
          .locator(".stat-label")
          .textContent(),
      ).resolves.toBe("Peak 1 min rate (last 7 days)");
      await expect(tile("stat-peak").textContent()).resolves.toBe("200/s");
      await expect(tile("stat-errors-5xx").textContent()).resolves.toBe(
        `${((100 * t.requests5xx) / expectedRequests(answers["7d"])).toFixed(2)}%`,
      );
      await page.screenshot({ path: "test-results/console-truth-7d.png", fullPage: true });

      await page.getByLabel("Time range").selectOption("6h");
      await page.waitForURL(/[?&]range=6h/);
      const sixHours = await overview("6h");
      await shows("stat-requests", formatCount(expectedRequests(sixHours)));
      await expect(
        page
          .locator(".stat", { has: tile("stat-rps") })
          .locator(".stat-label")
          .textContent(),
      ).resolves.toBe("Requests/s (last 1 min)");
      await expect(
        page
          .locator(".stat", { has: tile("stat-p95") })
          .locator(".stat-label")
          .textContent(),
      ).resolves.toBe("Latency p95 (last 5 min)");
      await expect(tile("stat-cache").textContent()).resolves.toBe(
        `${((100 * t.cacheHits) / expectedRequests(sixHours)).toFixed(1)}%`,
      );
      await expect(tile("stat-cache-cacheable").textContent()).resolves.toBe(
        `${((100 * t.cacheHits) / (t.cacheHits + t.cacheMisses)).toFixed(1)}%`,
      );
      // A reload keeps the range: it lives in the URL.
      await page.reload();
      await shows("stat-requests", formatCount(expectedRequests(await overview("6h"))));
      await expect(page.getByLabel("Time range").inputValue()).resolves.toBe("6h");
      await page.screenshot({ path: "test-results/console-truth-6h.png", fullPage: true });
    } finally {
      await context.close();
    }
  });
});

// The pages this suite does not otherwise photograph, at desktop and phone width, into
// docs/screenshots/ (the README shows them), with this test's known traffic on them.
describe("screenshots", () => {
  const SHOTS = path.join(PROJECT_ROOT, "docs", "screenshots");
  const WIDTHS = { desktop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } };
  const PAGES = [
    ["overview", "/?range=1h", '[data-testid="chart-rps"][data-state="ready"]'],
    ["instances", "/instances", "table"],
    ["audit", "/audit", "main h1"],
  ] as const;

  it("of the sign-in, overview, instances and audit pages", async () => {
    await mkdir(SHOTS, { recursive: true });
    for (const [width, viewport] of Object.entries(WIDTHS)) {
      const context = await browser.newContext({ viewport });
      try {
        const page = await context.newPage();
        await page.goto(`${servers[0]!.url}/login`);
        await page.locator("form").waitFor();
        await page.screenshot({ path: path.join(SHOTS, `login-${width}.png`), fullPage: true });
        await signIn(page, servers[0]!.url, OPERATOR.email, OPERATOR.password);
        for (const [name, url, ready] of PAGES) {
          await page.goto(`${servers[0]!.url}${url}`);
          await page.locator(ready).first().waitFor();
          await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
        }
      } finally {
        await context.close();
      }
    }
  });
});
