// GET /metrics on a real server process: the Prometheus text format, process defaults, the
// agenticorp_http_* series counting exactly the requests made, and promtool's lint.
import { spawn } from "node:child_process";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { sample } from "../helpers/prometheus-text";
import { startServer, type ServerProcess } from "../helpers/server-process";

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer({
    env: { DATABASE_URL: inject("databaseUrl"), CONSOLE_ENABLED: "false", DRAIN_TIMEOUT_MS: "5000" },
  });
});
afterAll(async () => {
  await server?.stop();
});

/** GET on a fresh connection closed after the response, so none is left for the drain to wait on. */
function get(pathname: string): Promise<{ status: number; contentType: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(pathname, server.url), { agent: false, timeout: 5_000 }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, contentType: response.headers["content-type"], text }));
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${pathname} timed out`)));
    request.on("error", reject);
  });
}

/** Pipes `body` into `promtool check metrics`; fails (not skips) when promtool is missing. */
function promtoolCheckMetrics(body: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("promtool check metrics did not finish within 10 s"));
    }, 10_000);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === "ENOENT"
          ? new Error("promtool is not installed (Debian package prometheus): run scripts/install-system-deps.sh")
          : error,
      );
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    // promtool may exit before reading everything; that shows up as its exit code, not as EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(body);
  });
}

const LIVE_COUNTER = 'agenticorp_http_requests_total{route="/health/live",method="GET",status="200"}';
const LIVE_INF_BUCKET = 'agenticorp_http_request_duration_seconds_bucket{le="+Inf",route="/health/live",method="GET"}';

describe("GET /metrics", () => {
  it("serves the Prometheus text format with the process defaults", async () => {
    const metrics = await get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
    ]) {
      expect(metrics.text).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
      expect(metrics.text).toMatch(new RegExp(`^${name} \\d`, "m"));
    }
  });

  it("counts every /health/live request, in the counter and in the duration histogram", async () => {
    const before = (await get("/metrics")).text;
    const requests = 7;
    for (let i = 0; i < requests; i++) expect((await get("/health/live")).status).toBe(200);
    const after = (await get("/metrics")).text;

    expect(after).toContain(`${LIVE_COUNTER} `);
    expect(sample(after, LIVE_COUNTER) - sample(before, LIVE_COUNTER)).toBe(requests);
    expect(after).toMatch(
      /^agenticorp_http_request_duration_seconds_bucket\{le="0\.001",route="\/health\/live",method="GET"\} \d+$/m,
    );
    expect(sample(after, LIVE_INF_BUCKET) - sample(before, LIVE_INF_BUCKET)).toBe(requests);
  });

  it("counts requests that match no route under one bounded route label", async () => {
    const series = 'agenticorp_http_requests_total{route="unmatched",method="GET",status="404"}';
    const before = (await get("/metrics")).text;
    expect((await get("/no-such-page-1")).status).toBe(404);
    expect((await get("/no-such-page-2?x=1")).status).toBe(404);
    const after = (await get("/metrics")).text;
    expect(sample(after, series) - sample(before, series)).toBe(2);
    expect(after).not.toContain("no-such-page");
  });

  it("passes promtool check metrics without a warning", async () => {
    // A request first, so the labelled agenticorp_http_* series are in the body linted too.
    await get("/health/live");
    const metrics = await get("/metrics");
    expect(metrics.text).toContain("agenticorp_http_request_duration_seconds_bucket");
    const lint = await promtoolCheckMetrics(metrics.text);
    expect(lint.output).toBe("");
    expect(lint.code).toBe(0);
  });
});
