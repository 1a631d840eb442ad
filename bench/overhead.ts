// npm run bench:overhead — the latency the gateway adds. An OpenAI-compatible upstream on
// loopback is called directly and through the gateway at the same fixed rate (open loop); the
// difference of the percentiles is the gateway's cost. Targets at 1,000 req/s on 2 cores:
// added p50 ≤ 0.5 ms, added p99 ≤ 2 ms. A minimal Fastify + undici proxy (bench/lib/floor-proxy.ts)
// is measured in the same rounds: what any proxy hop costs on this machine that day. Each proxy's
// CPU time per request is printed too: on a noisy machine it moves far less than a p99 does. So is
// the gateway's own time as it reports it (x-agenticorp-overhead-ms), which shows how much of the
// added latency is spent in the gateway's code and how much waiting for a CPU or in the kernel.
// The paths take turns in short slices (10 × 2 s each, order reversed every round): a noisy spell
// on a shared machine then lands on all three paths instead of on one path's whole block.
// BENCH_AWAKE_CORES=1 keeps every core busy with idle-priority spinners (bench/lib/awake-cores.ts),
// a diagnostic: the difference to a normal run is what waking halted CPUs adds. Not the target's
// conditions, and said so in the output.
import { keepCoresAwake } from "./lib/awake-cores";
import { answerCompletion, serveInChild, startChildServer } from "./lib/child-server";
import { percentile, runFixedRate } from "./lib/fixed-rate";
import { serveFloorProxy } from "./lib/floor-proxy";
import { processCpuMs } from "./lib/process-cpu";
import { startProduct } from "./lib/product";

const UPSTREAM_FLAG = "--upstream";
const FLOOR_FLAG = "--floor";
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const AWAKE_CORES = process.env.BENCH_AWAKE_CORES === "1";
const PATHS = ["direct", "floor", "gateway"] as const;
type PathName = (typeof PATHS)[number];

if (process.argv.includes(UPSTREAM_FLAG)) {
  serveInChild(answerCompletion);
} else if (process.argv.includes(FLOOR_FLAG)) {
  await serveFloorProxy(process.argv.at(-1)!);
} else {
  await main();
}

async function main() {
  const upstream = await startChildServer(import.meta.filename, UPSTREAM_FLAG);
  const floor = await startChildServer(import.meta.filename, FLOOR_FLAG, [upstream.url]);
  process.once("exit", () => (upstream.stop(), floor.stop()));
  const product = await startProduct(
    [
      {
        kind: "openai_compatible",
        name: "bench-upstream",
        baseUrl: `${upstream.url}/v1`,
        apiKey: "upstream-key",
        deployments: [{ modelName: "bench", upstreamModel: "bench" }],
      },
    ],
    // One access-log line per request, as in production. The console is off so that the
    // measurement does not depend on a console build (its effect is measured by bench:health).
    { CONSOLE_ENABLED: "false" },
  );
  let spinners: ReturnType<typeof keepCoresAwake> | null = null;
  try {
    // Bounded by the run's own length, with room for the warm-up and a slow machine.
    if (AWAKE_CORES) spinners = keepCoresAwake(((ROUNDS * SECONDS + 2) * PATHS.length + 60) * 2);
    const urls: Record<PathName, string> = { direct: upstream.url, floor: floor.url, gateway: product.server.url };
    const proxyPids = { floor: floor.child.pid!, gateway: product.server.child.pid! };
    const body = JSON.stringify({ model: "bench", messages: [{ role: "user", content: "hello" }], temperature: 0.7 });
    const run = (path: PathName, count: number) =>
      runFixedRate({
        url: urls[path],
        path: "/v1/chat/completions",
        headers: { "content-type": "application/json", authorization: `Bearer ${product.key}` },
        body,
        ratePerSecond: RATE,
        count,
        recordHeader: "x-agenticorp-overhead-ms",
      });
    // Warm every path (JIT, connection pools) before measuring.
    for (const path of PATHS) await run(path, RATE * 2);
    const latencies: Record<PathName, number[]> = { direct: [], floor: [], gateway: [] };
    const proxyCpuMs = { floor: 0, gateway: 0 };
    const reportedOverheadMs: number[] = [];
    let failed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of round % 2 === 0 ? PATHS : [...PATHS].reverse()) {
        const cpuBefore = path === "direct" ? 0 : processCpuMs(proxyPids[path]);
        const result = await run(path, RATE * SECONDS);
        if (path !== "direct") proxyCpuMs[path] += processCpuMs(proxyPids[path]) - cpuBefore;
        latencies[path].push(...result.latenciesMs);
        reportedOverheadMs.push(...result.headerValues);
        failed += result.failed;
      }
    }
    console.log(`\nOverhead at ${RATE} req/s, ${SECONDS} s × ${ROUNDS} rounds each (open loop, latency from due time)`);
    if (AWAKE_CORES)
      console.log(
        "DIAGNOSTIC: cores kept awake by idle-priority spinners (BENCH_AWAKE_CORES=1); not the conditions the targets are set for",
      );
    console.log("");
    console.log("path      requests    p50 ms    p99 ms");
    for (const path of PATHS) {
      console.log(
        `${path.padEnd(9)} ${String(latencies[path].length).padStart(8)}  ${percentile(latencies[path], 50).toFixed(3).padStart(8)}  ${percentile(latencies[path], 99).toFixed(3).padStart(8)}`,
      );
    }
    const added = (path: PathName, p: number) => (percentile(latencies[path], p) - percentile(latencies.direct, p)).toFixed(3);
    console.log(`\nfloor (minimal proxy) adds p50 ${added("floor", 50)} ms, p99 ${added("floor", 99)} ms`);
    console.log(`added p50: ${added("gateway", 50)} ms (target ≤ 0.5)   added p99: ${added("gateway", 99)} ms (target ≤ 2)`);
    const cpuPerRequestUs = (path: "floor" | "gateway") => (proxyCpuMs[path] * 1000) / (ROUNDS * RATE * SECONDS);
    console.log(
      `CPU per request: gateway ${cpuPerRequestUs("gateway").toFixed(0)} µs, floor ${cpuPerRequestUs("floor").toFixed(0)} µs ` +
        `(gateway/floor ${(cpuPerRequestUs("gateway") / cpuPerRequestUs("floor")).toFixed(2)})`,
    );
    if (reportedOverheadMs.length === 0) {
      console.log("the gateway's responses carried no x-agenticorp-overhead-ms header");
      process.exitCode = 1;
    } else {
      console.log(
        `the gateway's own time, routing to reply without the upstream wait (x-agenticorp-overhead-ms): p50 ${percentile(reportedOverheadMs, 50).toFixed(3)} ms, ` +
          `p99 ${percentile(reportedOverheadMs, 99).toFixed(3)} ms over ${reportedOverheadMs.length} responses`,
      );
    }
    if (failed > 0) {
      console.log(`${failed} requests failed`);
      process.exitCode = 1;
    }
  } finally {
    spinners?.stop();
    await product.stop();
    upstream.stop();
    floor.stop();
  }
}
