// npm run loadtest -- [--url http://127.0.0.1:3000] --key KEY [--rps 50] [--seconds 30] [--stream]
//                     [--model sim-fast] [--max-in-flight 1000] [--timeout 30] [--json]
//                     [--record --instances N [--size medium]]
//
// Chat completions at a fixed rate against a gateway or balancer; prints throughput, latency
// percentiles and errors. --record stores the sustained throughput per instance as a capacity
// benchmark (Capacity page), when the run had no errors; it needs DATABASE_URL.
import { checkOptions, formatReport, runLoadTest } from "../lib/control-plane/capacity/loadtest";
import { readCommandLine } from "./lib/command-line";

const USAGE =
  "usage: npm run loadtest -- [--url http://127.0.0.1:3000] --key KEY [--rps 50] [--seconds 30] [--stream] [--model sim-fast] [--max-in-flight 1000] [--timeout 30] [--json] [--record --instances N [--size ID]]";

function fail(message: string): never {
  console.error(`loadtest: ${message}\n${USAGE}`);
  process.exit(2);
}

const values = readCommandLine("loadtest", USAGE, {
  url: { type: "string", default: "http://127.0.0.1:3000" },
  key: { type: "string", default: process.env.AGENTICORP_KEY ?? "" },
  rps: { type: "string", default: "50" },
  seconds: { type: "string", default: "30" },
  stream: { type: "boolean", default: false },
  model: { type: "string", default: "sim-fast" },
  "max-in-flight": { type: "string", default: "1000" },
  timeout: { type: "string", default: "30" },
  json: { type: "boolean", default: false },
  record: { type: "boolean", default: false },
  instances: { type: "string" },
  size: { type: "string" },
});

const options = {
  url: values.url,
  key: values.key,
  model: values.model,
  ratePerSecond: Number(values.rps),
  seconds: Number(values.seconds),
  stream: values.stream,
  maxInFlight: Number(values["max-in-flight"]),
  timeoutMs: Number(values.timeout) * 1000,
};
const problem = checkOptions(options);
if (problem) fail(problem);
if (!(options.timeoutMs > 0 && options.timeoutMs <= 600_000)) fail("--timeout must be 1 to 600 seconds");
const instances = values.instances === undefined ? undefined : Number(values.instances);
if (values.record && !(Number.isInteger(instances) && instances! >= 1))
  fail("--record needs --instances N: how many instances served the load");

const report = await runLoadTest({
  ...options,
  onProgress: values.json
    ? undefined
    : (p) =>
        process.stderr.write(
          `\r  ${p.elapsedSeconds}s: sent ${p.sent}, ok ${p.ok}, errors ${p.errors}, in flight ${p.inFlight}   `,
        ),
});
if (!values.json) process.stderr.write("\n");
console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));

if (values.record) {
  if (report.errors > 0 || report.skipped > 0) {
    console.error("loadtest: not recorded: a run with errors or skipped requests does not measure sustained capacity");
    process.exit(1);
  }
  const { withCliDatabase } = await import("../lib/platform/db/cli-connection");
  const { recordBenchmark } = await import("../lib/control-plane/capacity/store");
  const saved = await withCliDatabase((database) =>
    recordBenchmark(database.prisma, {
      requestsPerSecond: report.throughputPerSecond / instances!,
      p95Seconds: report.latency?.p95 ?? null,
      errorRate: 0,
      instanceSizeId: values.size ?? null,
      source: "loadtest",
      notes: `${report.targetRatePerSecond} req/s for ${report.durationSeconds} s against ${report.url} (${instances} instance${instances === 1 ? "" : "s"}${report.stream ? ", streaming" : ""})`,
    }),
  );
  console.error(`loadtest: recorded ${saved.requestsPerSecond.toFixed(1)} req/s per instance as capacity benchmark ${saved.id}`);
}
