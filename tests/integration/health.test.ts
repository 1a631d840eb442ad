// /health, /health/live and /health/ready on real server processes: database up, lost after
// start (readiness holds; it fails only once the configuration is older than
// CONFIG_MAX_STALENESS_MS), unreachable from the start, and during the drain; and the start-up
// configuration error.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { PROJECT_ROOT, SERVER_BUNDLE } from "../../lib/platform/version";
import { startServer, type ServerProcess } from "../helpers/server-process";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

const databaseUrl = inject("databaseUrl");
const packageVersion: string = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).version;

const servers: ServerProcess[] = [];
const proxies: TcpProxy[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

/** A server on this run's database; a short drain deadline so a stray socket cannot stall teardown. */
async function start(env: Record<string, string> = {}, waitFor: "ready" | "listening" = "ready") {
  const server = await startServer({
    env: { DATABASE_URL: databaseUrl, CONSOLE_ENABLED: "false", DRAIN_TIMEOUT_MS: "5000", ...env },
    waitFor,
  });
  servers.push(server);
  return server;
}

async function proxyToDatabase(): Promise<{ proxy: TcpProxy; url: string }> {
  const database = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: database.hostname, port: Number(database.port || 5432) });
  proxies.push(proxy);
  database.hostname = "127.0.0.1";
  database.port = String(proxy.port);
  return { proxy, url: database.toString() };
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  reusedSocket: boolean;
}

/** GET with a fresh connection that is closed after the response, unless `agent` is given. */
function get(base: string, pathname: string, agent: http.Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(pathname, base), { agent, timeout: 5_000 }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => {
        try {
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            body: JSON.parse(text),
            reusedSocket: request.reusedSocket,
          });
        } catch (error) {
          reject(new Error(`GET ${pathname}: not JSON (${response.statusCode}): ${text.slice(0, 300)}`, { cause: error }));
        }
      });
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${pathname} timed out`)));
    request.on("error", reject);
  });
}

/** Polls until `accept` holds (the database check caches its answer for a second). */
async function pollUntil(base: string, pathname: string, accept: (reply: Reply) => boolean, timeoutMs: number): Promise<Reply> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await get(base, pathname);
    if (accept(reply)) return reply;
    if (Date.now() > deadline)
      throw new Error(
        `GET ${pathname} did not change within ${timeoutMs} ms; last: ${reply.status} ${JSON.stringify(reply.body)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The value of one sample line of /metrics (`name` or `name{labels}` exactly as exposed). */
async function metricLine(base: string, series: string): Promise<number | undefined> {
  const response = await fetch(new URL("/metrics", base), { headers: { connection: "close" } });
  const line = (await response.text()).split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("health endpoints with the database up", () => {
  it("reports alive, ready and healthy with identity, dependencies and vitals", async () => {
    const spawnedAt = Date.now();
    const server = await start();

    const live = await get(server.url, "/health/live");
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: "alive" });

    const ready = await get(server.url, "/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: "ready",
      reasons: [],
      draining: false,
      migrations: "applied",
      configuration: { loaded: true, age_ms: expect.any(Number), max_staleness_ms: 300_000, stale: false },
    });

    const health = await get(server.url, "/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: "healthy",
      instance_id: server.instanceId,
      version: packageVersion,
      uptime_seconds: expect.any(Number),
      draining: false,
      dependencies: { database: { status: "up", latency_ms: expect.any(Number) } },
      configuration: { loaded: true, stale: false },
      vitals: { rss_bytes: expect.any(Number), event_loop_lag_ms: expect.any(Number), in_flight_requests: expect.any(Number) },
    });
    const { uptime_seconds, dependencies, vitals } = health.body as {
      uptime_seconds: number;
      dependencies: { database: { latency_ms: number } };
      vitals: { rss_bytes: number; event_loop_lag_ms: number; in_flight_requests: number };
    };
    // Whole seconds since the process started, which was after it was spawned.
    expect(Number.isInteger(uptime_seconds)).toBe(true);
    expect(uptime_seconds).toBeLessThanOrEqual(Math.round((Date.now() - spawnedAt) / 1000));
    // A real round trip (hundredths of a millisecond), under the check's 1 s timeout.
    expect(dependencies.database.latency_ms).toBeGreaterThan(0);
    expect(dependencies.database.latency_ms).toBeLessThan(1_000);
    expect(vitals.rss_bytes).toBeGreaterThan(10 * 1024 * 1024);
    // 0 when the window has no sample yet; an answering process is not blocked for a second.
    expect(vitals.event_loop_lag_ms).toBeGreaterThanOrEqual(0);
    expect(vitals.event_loop_lag_ms).toBeLessThan(1_000);
    // The /health request itself is in flight while it is answered.
    expect(vitals.in_flight_requests).toBeGreaterThanOrEqual(1);
  });
});

describe("health endpoints when the database goes away", () => {
  it("stays ready, reports degraded on /health and in /metrics while it is cut, and healthy once it is back", async () => {
    const { proxy, url } = await proxyToDatabase();
    const server = await start({ DATABASE_URL: url });
    expect((await get(server.url, "/health/ready")).status).toBe(200);

    await proxy.cut();
    const health = await pollUntil(
      server.url,
      "/health",
      (reply) => (reply.body as { status: string }).status !== "healthy",
      5_000,
    );
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: "degraded",
      dependencies: { database: { status: "down", latency_ms: null, error: expect.any(String) } },
      configuration: { loaded: true, stale: false },
    });

    // Serving from memory: a shared dependency's blip must not take the instance out of rotation.
    const ready = await get(server.url, "/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: "ready",
      reasons: [],
      migrations: "applied",
      configuration: { loaded: true, stale: false },
    });
    const live = await get(server.url, "/health/live");
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: "alive" });
    expect(await metricLine(server.url, 'agenticorp_dependency_up{dependency="database"}')).toBe(0);

    await proxy.restore();
    await pollUntil(server.url, "/health", (reply) => (reply.body as { status: string }).status === "healthy", 5_000);
    expect((await get(server.url, "/health/ready")).status).toBe(200);
    expect(await metricLine(server.url, 'agenticorp_dependency_up{dependency="database"}')).toBe(1);
  });

  it("fails readiness, saying why, once the configuration is older than CONFIG_MAX_STALENESS_MS, and recovers when the database returns", async () => {
    const { proxy, url } = await proxyToDatabase();
    const server = await start({ DATABASE_URL: url, CONFIG_REFRESH_MS: "500", CONFIG_MAX_STALENESS_MS: "3000" });
    expect((await get(server.url, "/health/ready")).status).toBe(200);
    expect(await metricLine(server.url, "agenticorp_config_max_staleness_seconds")).toBe(3);

    await proxy.cut();
    const cutAt = Date.now();
    const ready = await pollUntil(server.url, "/health/ready", (reply) => reply.status !== 200, 15_000);
    // Last confirmed at most one refresh period (0.5 s) before the cut: not ready well after it, not at once.
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(1_500);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: "not_ready",
      reasons: [expect.stringMatching(/^configuration is stale: last confirmed current \d+ s ago, limit 3 s; last attempt: /)],
      migrations: "applied",
      configuration: { loaded: true, max_staleness_ms: 3_000, stale: true, last_error: expect.any(String) },
    });
    expect((ready.body as { configuration: { age_ms: number } }).configuration.age_ms).toBeGreaterThan(3_000);
    expect(await metricLine(server.url, "agenticorp_config_age_seconds")).toBeGreaterThan(3);

    // Still alive and serving what it has: /health says degraded, not unhealthy.
    const health = await get(server.url, "/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "degraded", configuration: { stale: true } });
    expect((await get(server.url, "/health/live")).status).toBe(200);

    await proxy.restore();
    const back = await pollUntil(server.url, "/health/ready", (reply) => reply.status === 200, 10_000);
    expect(back.body).toMatchObject({ status: "ready", reasons: [], configuration: { loaded: true, stale: false } });
  });

  it("stays alive but not ready and unhealthy when the database is unreachable from the start", async () => {
    const { proxy, url } = await proxyToDatabase();
    await proxy.cut();
    const server = await start({ DATABASE_URL: url }, "listening");

    const live = await get(server.url, "/health/live");
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: "alive" });

    const ready = await get(server.url, "/health/ready");
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: "not_ready",
      reasons: ["migrations are not applied yet", "configuration not loaded yet"],
      migrations: "pending",
      configuration: { loaded: false, age_ms: null, stale: false },
    });

    const health = await get(server.url, "/health");
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: "unhealthy", dependencies: { database: { status: "down" } } });
  });
});

describe("health endpoints while draining", () => {
  it("answers not ready with Connection: close on a kept-alive socket, then exits 0 once it closes", async () => {
    const server = await start({ DRAIN_TIMEOUT_MS: "10000" });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(server.url, "/health/live", agent);
      expect(first.status).toBe(200);
      expect(first.reusedSocket).toBe(false);

      server.child.kill("SIGTERM");
      await server.waitForLog((line) => line.msg === "draining", 5_000);
      // The idle keep-alive socket is left for the client to close, so the drain waits on it.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(server.child.exitCode).toBeNull();

      const ready = await get(server.url, "/health/ready", agent);
      expect(ready.reusedSocket).toBe(true);
      expect(ready.status).toBe(503);
      expect(ready.headers.connection).toBe("close");
      // Draining alone: the configuration is loaded and fresh.
      expect(ready.body).toMatchObject({
        status: "not_ready",
        draining: true,
        reasons: ["instance is draining"],
        configuration: { loaded: true, stale: false },
      });
    } finally {
      agent.destroy();
    }

    const exit = await withinMs(server.exited, 15_000, "exit after the drain");
    expect(exit).toEqual({ code: 0, signal: null });
    // Closed by the client, not cut at the deadline.
    expect(server.logs.find((line) => line.msg === "drained")).toMatchObject({ timedOut: false, cutConnections: 0 });
  });
});

describe("configuration errors", () => {
  it("exits 1 with one line on stderr naming PORT when PORT is not a number", async () => {
    const child = spawn(process.execPath, [SERVER_BUNDLE], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production", PORT: "abc" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // "close" rather than "exit": it comes after stderr has been read to its end.
    const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
    try {
      const code = await withinMs(exited, 20_000, "exit on a bad PORT");
      expect(code).toBe(1);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    expect(stderr).toMatch(/^Invalid configuration: PORT [^\n]*"abc"[^\n]*\n$/);
    expect(stdout).toBe("");
  });
});
