import { describe, expect, it } from "vitest";
import { parseWrkOutput, parseWrkTime, runProblem, summarize, type WrkReport } from "../../bench/lib/wrk";

// Captured from wrk 4.1.0 (Debian) against a bare node:http server.
const CLEAN = `Running 3s test @ http://127.0.0.1:18998/health/live
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    18.08ms   53.54ms 598.88ms   94.81%
    Req/Sec    10.45k     6.02k   24.00k    66.67%
  Latency Distribution
     50%    4.80ms
     75%    9.16ms
     90%   23.74ms
     99%  294.17ms
  31399 requests in 3.03s, 6.20MB read
Requests/sec:  10368.21
Transfer/sec:      2.05MB
`;

// Captured against a server failing one request in ten; the 99% line and the timeout count are
// edited so that a time in seconds and every error counter are read.
const WITH_ERRORS = `Running 2s test @ http://127.0.0.1:18999/health/live
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.02ms    6.33ms 101.19ms   93.44%
    Req/Sec    10.26k     6.38k   22.67k    55.00%
  Latency Distribution
     50%    1.04ms
     75%    2.77ms
     90%    6.96ms
     99%    1.20s
  20437 requests in 2.02s, 3.68MB read
  Socket errors: connect 0, read 191, write 0, timeout 3
  Non-2xx or 3xx responses: 2062
Requests/sec:  10098.72
Transfer/sec:      1.82MB
`;

describe("parseWrkTime", () => {
  it.each([
    ["586.00us", 0.586],
    ["1.10ms", 1.1],
    ["2.00s", 2_000],
    ["1.50m", 90_000],
  ])("reads %s as %f ms", (text, ms) => {
    expect(parseWrkTime(text)).toBeCloseTo(ms, 9);
  });

  it("rejects a number without a unit", () => {
    expect(() => parseWrkTime("586.00")).toThrow(/not a wrk time/);
  });
});

describe("parseWrkOutput", () => {
  it("reads throughput and percentiles from a clean run", () => {
    const report = parseWrkOutput(CLEAN);
    expect(report).toEqual({
      requests: 31_399,
      durationSeconds: 3.03,
      requestsPerSecond: 10_368.21,
      latencyMs: { p50: 4.8, p75: 9.16, p90: 23.74, p99: 294.17 },
      non2xx3xx: 0,
      socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
    });
    expect(runProblem(report)).toBeUndefined();
  });

  it("reads error counts and mixed units, and refuses such a run", () => {
    const report = parseWrkOutput(WITH_ERRORS);
    expect(report.requestsPerSecond).toBe(10_098.72);
    expect(report.latencyMs.p50).toBeCloseTo(1.04, 9);
    expect(report.latencyMs.p99).toBe(1_200);
    expect(report.durationSeconds).toBeCloseTo(2.02, 9);
    expect(report.non2xx3xx).toBe(2062);
    expect(report.socketErrors).toEqual({ connect: 0, read: 191, write: 0, timeout: 3 });
    expect(runProblem(report)).toBe("2062 responses were not 2xx/3xx");
    expect(runProblem({ ...report, non2xx3xx: 0 })).toBe("socket errors: connect 0, read 191, write 0, timeout 3");
  });

  it("fails naming what is missing when the latency distribution was not asked for", () => {
    const withoutLatency = CLEAN.replace(/ {2}Latency Distribution[\s\S]*?(?= {2}31399)/, "");
    expect(withoutLatency).not.toContain("99%");
    expect(() => parseWrkOutput(withoutLatency)).toThrow(/no 50% latency line/);
  });

  it("fails on a run that never connected", () => {
    expect(() => parseWrkOutput("unable to connect to 127.0.0.1:1 Connection refused\n")).toThrow(/no .* \(was --latency given/);
  });
});

describe("summarize", () => {
  const run = (requestsPerSecond: number, p50: number, p99: number): WrkReport => ({
    ...parseWrkOutput(CLEAN),
    requestsPerSecond,
    latencyMs: { p50, p75: p50, p90: p99, p99 },
  });

  it("averages throughput and takes the median of each percentile", () => {
    expect(summarize([run(100, 1, 10), run(200, 3, 50), run(300, 2, 20)])).toEqual({
      runs: 3,
      requestsPerSecond: 200,
      p50Ms: 2,
      p99Ms: 20,
    });
    expect(summarize([run(100, 1, 10), run(300, 3, 30)])).toEqual({ runs: 2, requestsPerSecond: 200, p50Ms: 2, p99Ms: 20 });
  });

  it("refuses an empty list", () => {
    expect(() => summarize([])).toThrow(/no runs/);
  });
});
