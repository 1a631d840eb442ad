// npm run bench:batch — a 20,000-line batch (BENCH_BATCH_LINES) on three instances (BENCH_BATCH_INSTANCES)
// against the simulator, one instance killed with SIGKILL a third of the way through (BENCH_BATCH_KILL=0:
// none), each instance with WORKER_CONCURRENCY BENCH_BATCH_CONCURRENCY. Prints the batch throughput, fleet-wide and per
// instance, and checks every custom_id came back exactly once.
import { buildIfNeeded } from "../scripts/build-if-needed";
import { describeFleetBatch, runFleetBatch } from "../tests/helpers/batch-fleet";

const lines = Number(process.env.BENCH_BATCH_LINES ?? 20_000);
const instances = Number(process.env.BENCH_BATCH_INSTANCES ?? 3);
const kill = process.env.BENCH_BATCH_KILL !== "0";
const concurrency = Number(process.env.BENCH_BATCH_CONCURRENCY ?? 32);
const latencyMs = Number(process.env.BENCH_BATCH_LATENCY_MS ?? 10);

await buildIfNeeded({ console: false });
const report = await runFleetBatch({
  lines,
  instances,
  killAt: kill ? 0.33 : undefined,
  concurrency,
  latencyMs,
  timeoutMs: 30 * 60_000,
  log: (message) => console.log(message),
});
console.log(
  `\nBatch: ${lines} lines, ${instances} instances, WORKER_CONCURRENCY ${concurrency}, simulator median ${latencyMs} ms${kill ? ", one killed with SIGKILL" : ""}`,
);
for (const line of describeFleetBatch(report)) console.log(line);
const exact =
  report.duplicates.length === 0 &&
  report.missing.length === 0 &&
  report.unexpected.length === 0 &&
  report.outputLines + report.errorLines === lines;
console.log(exact ? "every custom_id answered exactly once" : "FAILED: custom_ids not answered exactly once");
process.exit(exact && report.batch.status === "completed" ? 0 : 1);
