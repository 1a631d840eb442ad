// npm run bench:health — GET /health/live on the product (server.ts, console enabled) against a
// bare node:http server answering the same JSON, each in its own process, with the same wrk
// load, alternating which goes first. Prints requests/s, p50 and p99 for each and the ratio
// product/bare; exits 1 when the ratio is under the target.
// The throwaway database lives on DATABASE_URL's server, else 127.0.0.1:5432 (user postgres).
import { randomBytes } from "node:crypto";
import { buildIfNeeded } from "../scripts/build-if-needed";
import { createScratchDatabase, type ScratchDatabase } from "../tests/helpers/postgres";
import { startServer, type ServerProcess } from "../tests/helpers/server-process";
import { serveInChild, startChildServer, type Handler } from "./lib/child-server";
import { parseWrkOutput, runProblem, runWrk, summarize, type RunSummary, type WrkReport } from "./lib/wrk";

const TARGET_RATIO = 0.6;
const PATH = "/health/live";
// One wrk thread: the machine has two cores, and the server under test needs the other one.
const WRK_ARGS = ["-t1", "-c64", "-d10s", "--latency"];
const WARMUP_ARGS = ["-t1", "-c64", "-d3s"];
const ROUNDS = 2;
const BARE_FLAG = "--bare-server";

type Target = "bare" | "product";

/** The baseline: the least a Node process can do to answer the probe. */
const PROBE_BODY = JSON.stringify({ status: "alive" });
const answerProbe: Handler = (_request, response) => {
  response.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(PROBE_BODY) });
  response.end(PROBE_BODY);
};

async function measure(target: Target, url: string): Promise<WrkReport> {
  const report = parseWrkOutput(await runWrk(WRK_ARGS, url));
  const problem = runProblem(report);
  if (problem) throw new Error(`${target} run is not a valid measurement: ${problem}`);
  console.log(
    `  ${target.padEnd(8)} ${report.requestsPerSecond.toFixed(0).padStart(9)} req/s   p50 ${report.latencyMs.p50.toFixed(2).padStart(7)} ms   p99 ${report.latencyMs.p99.toFixed(2).padStart(7)} ms`,
  );
  return report;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("   "),
    )
    .join("\n");
}

async function main(): Promise<void> {
  await buildIfNeeded();

  let database: ScratchDatabase | undefined;
  let product: ServerProcess | undefined;
  let bare: { url: string; stop(): void } | undefined;
  try {
    database = await createScratchDatabase(`agenticorp_bench_${Date.now()}_${randomBytes(3).toString("hex")}`);
    product = await startServer({ env: { DATABASE_URL: database.url, DRAIN_TIMEOUT_MS: "5000" }, timeoutMs: 120_000 });
    bare = await startChildServer(import.meta.filename, BARE_FLAG);
    const urls: Record<Target, string> = {
      bare: new URL(PATH, bare.url).toString(),
      product: new URL(PATH, product.url).toString(),
    };

    console.log(`GET ${PATH}, wrk ${WRK_ARGS.join(" ")}, ${ROUNDS} runs each, order alternating`);
    console.log(`warming up (wrk ${WARMUP_ARGS.join(" ")} on each, not counted)`);
    for (const target of ["bare", "product"] as const) await runWrk(WARMUP_ARGS, urls[target]);

    const reports: Record<Target, WrkReport[]> = { bare: [], product: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Target[] = round % 2 === 0 ? ["bare", "product"] : ["product", "bare"];
      console.log(`round ${round + 1}: ${order.join(" then ")}`);
      for (const target of order) reports[target].push(await measure(target, urls[target]));
    }

    const bareSummary = summarize(reports.bare);
    const productSummary = summarize(reports.product);
    const ratio = productSummary.requestsPerSecond / bareSummary.requestsPerSecond;
    const row = (name: string, s: RunSummary) => [name, s.requestsPerSecond.toFixed(0), s.p50Ms.toFixed(2), s.p99Ms.toFixed(2)];
    console.log("");
    console.log(
      table([
        ["", "requests/s (mean)", "p50 ms (median)", "p99 ms (median)"],
        row("bare", bareSummary),
        row("product", productSummary),
      ]),
    );
    console.log("");
    const met = ratio >= TARGET_RATIO;
    console.log(
      `ratio product/bare (requests/s): ${ratio.toFixed(2)}   target ≥ ${TARGET_RATIO.toFixed(2)}: ${met ? "met" : "NOT MET"}`,
    );
    if (!met) process.exitCode = 1;
  } finally {
    bare?.stop();
    await product?.stop();
    await database?.drop();
  }
}

if (process.argv.includes(BARE_FLAG)) serveInChild(answerProbe);
else await main();
