// npm run bench:throughput — non-streaming completions per second through the whole gateway
// (key check, validation, routing, the simulator at zero latency, metrics, access log; cache
// bypassed) beside a bare node:http server answering a completion-sized JSON, same wrk load,
// alternating order. Target ratio ≥ 0.2. Then the product's RSS (target ≤ 300 MB), and 1,000
// concurrent streams on one instance (target: all complete, RSS ≤ 400 MB). Then usage accounting's
// cost: the same load on two products, USAGE_ACCOUNTING on (the key with a daily budget and a
// tokens-per-minute limit, so the budget path runs) and off, alternating; target ratio ≥ 0.9.
// BENCH_ONLY=accounting runs that part alone. And the request log's cost: the same load on an
// instance with the log on (sampling at BENCH_REQUEST_LOG_SAMPLE_RATE, default the product's 1%)
// and one started with REQUEST_LOG=off, alternating; target on/off ≥ 0.9. BENCH_ONLY=request-log
// (or --request-log-only) runs that part alone.
import path from "node:path";
import { Pool } from "undici";
import { answerCompletion, serveInChild, startChildServer } from "./lib/child-server";
import { rssMegabytes, startProduct } from "./lib/product";
import { parseWrkOutput, runProblem, runWrk, summarize, type WrkReport } from "./lib/wrk";
import { PROJECT_ROOT } from "../lib/platform/version";
import { processCpuMs } from "./lib/process-cpu";
import type { CreateProviderInput } from "../lib/data-plane/providers/admin";

const FLAG = "--bare-completion";
const WRK_ARGS = ["-t1", "-c64", "-d10s", "--latency"];
const WARMUP_ARGS = ["-t1", "-c64", "-d3s", "--latency"];
const ROUNDS = 3;
const STREAMS = Number(process.env.BENCH_STREAMS ?? 1_000);
const LUA = path.join(PROJECT_ROOT, "deploy/loadtest/wrk-completions.lua");

/** The other APIs, measured once each after the chat rounds (wrk-completions.lua's AGENTICORP_ENDPOINT). */
const OTHER_ENDPOINTS = {
  responses: "/v1/responses (translated to chat)",
  completions: "/v1/completions (translated to chat)",
  messages: "/v1/messages (translated to chat)",
  embeddings: "/v1/embeddings (256 dimensions, cache bypassed)",
} as const;

const REQUEST_LOG_ONLY = "--request-log-only";
const REQUEST_LOG_SAMPLE_RATE = process.env.BENCH_REQUEST_LOG_SAMPLE_RATE ?? "0.01";
/** More rounds than the chat comparison: the difference sought is a few percent. */
const REQUEST_LOG_ROUNDS = Number(process.env.BENCH_REQUEST_LOG_ROUNDS ?? 4);
/** wrk's 2 s timeout turns a busy neighbour's stall into a failed run; both sides get the same longer one. */
const REQUEST_LOG_WRK_ARGS = [...WRK_ARGS, "--timeout", "10s"];
const BENCH_PROVIDER: CreateProviderInput = {
  kind: "simulator",
  name: "bench-simulator",
  deployments: [{ modelName: "bench", upstreamModel: "bench" }],
};

if (process.argv.includes(FLAG)) serveInChild(answerCompletion);
else if (process.argv.includes(REQUEST_LOG_ONLY) || process.env.BENCH_ONLY === "request-log")
  process.exitCode = (await requestLogCost()) ? 0 : 1;
else if (process.env.BENCH_ONLY === "accounting") await accounting();
else {
  await main();
  await accounting();
}

/** Usage accounting on ÷ off, same load, alternating; the budget and TPM are far above what the run spends. */
async function accounting() {
  const providers = [
    { kind: "simulator" as const, name: "bench-simulator", deployments: [{ modelName: "bench", upstreamModel: "sim-fast" }] },
  ];
  const limits = { budgetDailyUsd: 1_000_000, budgetMonthlyUsd: 10_000_000, tpmLimit: 1_000_000_000 };
  const on = await startProduct(providers, { CONSOLE_ENABLED: "false", USAGE_ACCOUNTING: "on" }, undefined, limits);
  const off = await startProduct(providers, { CONSOLE_ENABLED: "false", USAGE_ACCOUNTING: "off" }, undefined, limits);
  try {
    console.log(`
Usage accounting: POST /v1/chat/completions, wrk ${WRK_ARGS.join(" ")}, ${ROUNDS} runs each, order alternating`);
    // Warm-ups only warm: their timeouts (a busy machine) do not stop the run.
    await wrk(on.server.url, on.key, WARMUP_ARGS).catch(() => undefined);
    await wrk(off.server.url, off.key, WARMUP_ARGS).catch(() => undefined);
    const reports: Record<"on" | "off", WrkReport[]> = { on: [], off: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of round % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
        const product = target === "on" ? on : off;
        // A 10 s timeout: on a machine shared with other work a 2 s one loses runs to stray stalls.
        const report = await wrk(product.server.url, product.key, [...WRK_ARGS, "--timeout", "10s"]);
        reports[target].push(report);
        console.log(
          `  accounting ${target.padEnd(3)} ${report.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${report.latencyMs.p50.toFixed(2)} ms  p99 ${report.latencyMs.p99.toFixed(2)} ms`,
        );
      }
    }
    const ratio = summarize(reports.on).requestsPerSecond / summarize(reports.off).requestsPerSecond;
    console.log(`ratio accounting on/off: ${ratio.toFixed(3)} (target ≥ 0.9)`);
    if (ratio < 0.9) process.exitCode = 1;
  } finally {
    await on.stop();
    await off.stop();
  }
}

/**
 * The request log on (at the sampling rate) against off, same wrk load, alternating order, each
 * instance with its own database. True when on/off ≥ 0.9.
 */
async function requestLogCost(): Promise<boolean> {
  const [on, off] = [
    await startProduct([BENCH_PROVIDER], { REQUEST_LOG: "on", REQUEST_LOG_SAMPLE_RATE }),
    await startProduct([BENCH_PROVIDER], { REQUEST_LOG: "off" }),
  ];
  try {
    console.log(`
request log on (sample rate ${REQUEST_LOG_SAMPLE_RATE}) vs off, wrk ${REQUEST_LOG_WRK_ARGS.join(" ")}, ${REQUEST_LOG_ROUNDS} runs each, order alternating`);
    await wrk(on.server.url, on.key, WARMUP_ARGS, "chat", false);
    await wrk(off.server.url, off.key, WARMUP_ARGS, "chat", false);
    const reports: Record<"on" | "off", WrkReport[]> = { on: [], off: [] };
    // CPU per request: steadier than throughput when neighbours share the machine.
    const cpuPerRequestUs: Record<"on" | "off", number[]> = { on: [], off: [] };
    for (let round = 0; round < REQUEST_LOG_ROUNDS; round++) {
      for (const target of round % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
        const product = target === "on" ? on : off;
        const cpuBefore = processCpuMs(product.server.child.pid!);
        const report = await wrk(product.server.url, product.key, REQUEST_LOG_WRK_ARGS);
        const cpuUs = ((processCpuMs(product.server.child.pid!) - cpuBefore) * 1_000) / report.requests;
        reports[target].push(report);
        cpuPerRequestUs[target].push(cpuUs);
        console.log(
          `  log ${target.padEnd(4)} ${report.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${report.latencyMs.p50.toFixed(2)} ms  p99 ${report.latencyMs.p99.toFixed(2)} ms  CPU ${cpuUs.toFixed(0)} µs/request`,
        );
      }
    }
    const [onSummary, offSummary] = [summarize(reports.on), summarize(reports.off)];
    const ratio = onSummary.requestsPerSecond / offSummary.requestsPerSecond;
    const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const [cpuOn, cpuOff] = [medianOf(cpuPerRequestUs.on), medianOf(cpuPerRequestUs.off)];
    console.log(
      `CPU per request (median): on ${cpuOn.toFixed(0)} µs, off ${cpuOff.toFixed(0)} µs (on/off ${(cpuOn / cpuOff).toFixed(3)})`,
    );
    const written = /agenticorp_request_log_entries_total\{outcome="written"\} (\d+)/.exec(
      await (await fetch(`${on.server.url}/metrics`)).text(),
    )?.[1];
    console.log(
      `request log on ${onSummary.requestsPerSecond.toFixed(0)} req/s, off ${offSummary.requestsPerSecond.toFixed(0)} req/s`,
    );
    console.log(
      `ratio on/off: ${ratio.toFixed(3)} (target ≥ 0.9); entries written by the instance with the log on: ${written ?? "unknown"}`,
    );
    return ratio >= 0.9;
  } finally {
    await on.stop();
    await off.stop();
  }
}

/** `checked` false: a warm-up, whose stray timeouts on a busy machine measure nothing. */
async function wrk(url: string, key: string, args = WRK_ARGS, endpoint = "chat", checked = true): Promise<WrkReport> {
  const report = parseWrkOutput(
    await runWrk([...args, "-s", LUA], url, { AGENTICORP_KEY: key, AGENTICORP_MODEL: "bench", AGENTICORP_ENDPOINT: endpoint }),
  );
  const problem = runProblem(report);
  if (problem && checked) throw new Error(`wrk run against ${url} is not a clean measurement: ${problem}`);
  return report;
}

async function concurrentStreams(url: string, key: string, sampleRss: () => Promise<number>) {
  const pool = new Pool(url, { connections: STREAMS, pipelining: 1 });
  let peakRss = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakRss = Math.max(peakRss, await sampleRss());
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      try {
        const response = await pool.request({
          path: "/v1/chat/completions",
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: "bench-stream", stream: true, messages: [{ role: "user", content: "stream please" }] }),
          headersTimeout: 60_000,
          bodyTimeout: 60_000,
        });
        const text = await response.body.text();
        return response.statusCode === 200 && text.trimEnd().endsWith("data: [DONE]");
      } catch {
        return false;
      }
    }),
  );
  sampling = false;
  await sampler;
  await pool.close();
  return { completed: outcomes.filter(Boolean).length, seconds: (performance.now() - started) / 1000, peakRss };
}

async function main() {
  const bare = await startChildServer(import.meta.filename, FLAG);
  process.once("exit", () => bare.stop());
  const product = await startProduct([
    BENCH_PROVIDER,
    {
      kind: "simulator",
      name: "bench-streams",
      settings: {
        latencyMs: { median: 0, p99: 0 },
        tokensPerSecond: 20,
        errorRate: 0,
        answerWords: 40,
        timeouts: { connectMs: 1_000, firstByteMs: 30_000, totalMs: 120_000 },
      },
      deployments: [{ modelName: "bench-stream", upstreamModel: "bench-stream" }],
    },
  ]);
  try {
    const url = product.server.url;
    console.log(`POST /v1/chat/completions, wrk ${WRK_ARGS.join(" ")}, ${ROUNDS} runs each, order alternating`);
    await wrk(bare.url, product.key, WARMUP_ARGS);
    await wrk(url, product.key, WARMUP_ARGS);
    const reports: Record<"bare" | "product", WrkReport[]> = { bare: [], product: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const target of round % 2 === 0 ? (["bare", "product"] as const) : (["product", "bare"] as const)) {
        const report = await wrk(target === "bare" ? bare.url : url, product.key);
        reports[target].push(report);
        console.log(
          `  ${target.padEnd(8)} ${report.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${report.latencyMs.p50.toFixed(2)} ms  p99 ${report.latencyMs.p99.toFixed(2)} ms`,
        );
      }
    }
    const bareSummary = summarize(reports.bare);
    const productSummary = summarize(reports.product);
    const ratio = productSummary.requestsPerSecond / bareSummary.requestsPerSecond;
    const rssAfterLoad = await rssMegabytes(product.server);
    console.log(
      `\nbare ${bareSummary.requestsPerSecond.toFixed(0)} req/s, product ${productSummary.requestsPerSecond.toFixed(0)} req/s`,
    );
    console.log(`ratio product/bare: ${ratio.toFixed(2)} (target ≥ 0.2)`);
    console.log(`product RSS after the load: ${rssAfterLoad} MB (target ≤ 300 MB; console enabled)`);
    for (const [endpoint, route] of Object.entries(OTHER_ENDPOINTS)) {
      const report = await wrk(url, product.key, WRK_ARGS, endpoint);
      console.log(
        `POST ${route}: ${report.requestsPerSecond.toFixed(0)} req/s  p50 ${report.latencyMs.p50.toFixed(2)} ms  p99 ${report.latencyMs.p99.toFixed(2)} ms`,
      );
    }

    const streams = await concurrentStreams(url, product.key, () => rssMegabytes(product.server));
    console.log(
      `\n${STREAMS} concurrent streams (40 tokens at 20 tokens/s each): ${streams.completed} completed in ${streams.seconds.toFixed(1)} s, peak RSS ${streams.peakRss} MB (target: all, ≤ 400 MB)`,
    );
    if (ratio < 0.2 || rssAfterLoad > 300 || streams.completed < STREAMS || streams.peakRss > 400) process.exitCode = 1;
  } finally {
    await product.stop();
    bare.stop();
  }
  if (!(await requestLogCost())) process.exitCode = 1;
}
