// npm run bench:overhead — the latency the gateway adds. An OpenAI-compatible upstream on
// loopback is called directly and through the gateway at the same fixed rate (open loop); the
// difference of the percentiles is the gateway's cost. Targets at 1,000 req/s on 2 cores:
// added p50 ≤ 0.5 ms, added p99 ≤ 2 ms.
import { answerCompletion, serveInChild, startChildServer } from "./lib/child-server";
import { percentile, runFixedRate, type FixedRateResult } from "./lib/fixed-rate";
import { startProduct } from "./lib/product";

const FLAG = "--upstream";
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = 2;

if (process.argv.includes(FLAG)) {
  serveInChild(answerCompletion);
} else {
  await main();
}

async function main() {
  const upstream = await startChildServer(import.meta.filename, FLAG);
  process.once("exit", () => upstream.stop());
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
  try {
    const body = JSON.stringify({ model: "bench", messages: [{ role: "user", content: "hello" }], temperature: 0.7 });
    const run = (url: string, path: string, count: number) =>
      runFixedRate({
        url,
        path,
        headers: { "content-type": "application/json", authorization: `Bearer ${product.key}` },
        body,
        ratePerSecond: RATE,
        count,
      });
    // Warm both paths (JIT, connection pools) before measuring.
    await run(upstream.url, "/v1/chat/completions", RATE * 2);
    await run(product.server.url, "/v1/chat/completions", RATE * 2);
    const direct: FixedRateResult[] = [];
    const gateway: FixedRateResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ["direct", "gateway"] : ["gateway", "direct"];
      for (const which of order) {
        const result = which === "direct" ? await run(upstream.url, "/v1/chat/completions", RATE * SECONDS) : await run(product.server.url, "/v1/chat/completions", RATE * SECONDS);
        (which === "direct" ? direct : gateway).push(result);
      }
    }
    const all = (results: FixedRateResult[]) => results.flatMap((r) => r.latenciesMs);
    const failed = (results: FixedRateResult[]) => results.reduce((n, r) => n + r.failed, 0);
    const rows = [
      ["direct", all(direct), failed(direct)],
      ["gateway", all(gateway), failed(gateway)],
    ] as const;
    console.log(`\nOverhead at ${RATE} req/s, ${SECONDS} s × ${ROUNDS} rounds each (open loop, latency from due time)\n`);
    console.log("path      requests  failed    p50 ms    p99 ms");
    for (const [name, latencies, failures] of rows) {
      console.log(`${name.padEnd(9)} ${String(latencies.length).padStart(8)}  ${String(failures).padStart(6)}  ${percentile(latencies, 50).toFixed(3).padStart(8)}  ${percentile(latencies, 99).toFixed(3).padStart(8)}`);
    }
    const addedP50 = percentile(all(gateway), 50) - percentile(all(direct), 50);
    const addedP99 = percentile(all(gateway), 99) - percentile(all(direct), 99);
    console.log(`\nadded p50: ${addedP50.toFixed(3)} ms (target ≤ 0.5)   added p99: ${addedP99.toFixed(3)} ms (target ≤ 2)`);
    if (failed(gateway) + failed(direct) > 0) process.exitCode = 1;
  } finally {
    await product.stop();
    upstream.stop();
  }
}
