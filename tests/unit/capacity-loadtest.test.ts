// The npm-native load generator against a local stand-in gateway (127.0.0.1): the arrival rate
// holds, every outcome is counted by kind, streams must end with [DONE], and the limits hold.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { checkOptions, formatReport, percentiles, runLoadTest } from "../../lib/control-plane/capacity/loadtest";

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Answers like the gateway: every `failEvery`-th request 429, streams cut when `cutStreams`. */
async function gateway(options: { failEvery?: number; cutStreams?: boolean; delayMs?: number } = {}): Promise<string> {
  let n = 0;
  server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (c) => (body += c));
    request.on("end", () => {
      const seq = ++n;
      const stream = JSON.parse(body).stream === true;
      setTimeout(() => {
        if (request.headers.authorization !== "Bearer k") return void response.writeHead(401).end("{}");
        if (options.failEvery && seq % options.failEvery === 0) return void response.writeHead(429).end("{}");
        if (stream) {
          response.writeHead(200, { "content-type": "text/event-stream" });
          response.write('data: {"choices":[{"delta":{"content":"hi"}}]}\n\n');
          return void response.end(options.cutStreams ? "" : "data: [DONE]\n\n");
        }
        response.writeHead(200, { "content-type": "application/json" }).end('{"choices":[{"message":{"content":"hi"}}]}');
      }, options.delayMs ?? 2);
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const base = { key: "k", model: "m", stream: false, maxInFlight: 100, timeoutMs: 5_000 };

describe("runLoadTest", () => {
  it("sends rate × seconds requests at that rate and measures them", async () => {
    const url = await gateway({ delayMs: 5 });
    const started = performance.now();
    const report = await runLoadTest({ ...base, url, ratePerSecond: 40, seconds: 1.5 });
    const elapsed = (performance.now() - started) / 1000;
    expect(report).toMatchObject({ sent: 60, ok: 60, errors: 0, skipped: 0 });
    expect(elapsed).toBeGreaterThan(1.4);
    expect(elapsed).toBeLessThan(4);
    expect(report.latency!.p50).toBeGreaterThanOrEqual(0.005);
    expect(report.latency!.p99).toBeGreaterThanOrEqual(report.latency!.p50);
    expect(report.throughputPerSecond).toBeGreaterThan(20);
  });
  it("counts errors by kind", async () => {
    const url = await gateway({ failEvery: 4 });
    const report = await runLoadTest({ ...base, url, ratePerSecond: 40, seconds: 1 });
    expect(report).toMatchObject({ sent: 40, ok: 30, errors: 10, errorsByKind: { "429": 10 } });
    expect(formatReport(report)).toContain("error 429: 10");
  });
  it("requires streams to end with [DONE]", async () => {
    const ok = await runLoadTest({ ...base, url: await gateway(), ratePerSecond: 20, seconds: 0.5, stream: true });
    expect(ok).toMatchObject({ ok: 10, errors: 0 });
    expect(ok.timeToFirstByte).not.toBeNull();
    await new Promise((resolve) => server!.close(resolve));
    const cut = await runLoadTest({
      ...base,
      url: await gateway({ cutStreams: true }),
      ratePerSecond: 20,
      seconds: 0.5,
      stream: true,
    });
    expect(cut).toMatchObject({ ok: 0, errors: 10, errorsByKind: { "truncated stream": 10 } });
  });
  it("counts a refused connection as a network error", async () => {
    const url = await gateway();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const report = await runLoadTest({ ...base, url, ratePerSecond: 10, seconds: 0.3 });
    expect(report.errorsByKind).toEqual({ "network: ECONNREFUSED": 3 });
  });
  it("skips arrivals beyond the in-flight bound instead of queueing them", async () => {
    const url = await gateway({ delayMs: 500 });
    const report = await runLoadTest({ ...base, url, ratePerSecond: 100, seconds: 0.3, maxInFlight: 5 });
    expect(report.sent).toBe(5);
    expect(report.skipped).toBe(25);
  });
});

describe("limits and percentiles", () => {
  it("refuses unbounded runs", () => {
    const ok = { url: "http://127.0.0.1:3000", key: "k", ratePerSecond: 50, seconds: 30, maxInFlight: 1000 };
    expect(checkOptions(ok)).toBeNull();
    expect(checkOptions({ ...ok, seconds: 7200 })).toMatch(/--seconds/);
    expect(checkOptions({ ...ok, ratePerSecond: 0 })).toMatch(/--rps/);
    expect(checkOptions({ ...ok, key: "" })).toMatch(/--key/);
    expect(checkOptions({ ...ok, url: "ftp://x" })).toMatch(/http/);
  });
  it("takes nearest-rank percentiles", () => {
    const p = percentiles(Array.from({ length: 100 }, (_, i) => i + 1))!;
    expect([p.p50, p.p90, p.p95, p.p99, p.max, p.mean]).toEqual([50, 90, 95, 99, 100, 50.5]);
    expect(percentiles([])).toBeNull();
  });
});
