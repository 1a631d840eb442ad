// npm run bench:batch-autoscale — queue-depth scaling, end to end on this machine: a one-instance
// local cluster (the `local` scaling target) under the queue-depth demo policy, a batch of 20,000
// simulator requests submitted with the official openai SDK, and the fleet watched as it scales
// out on the queue and back in once the batch is done. Prints the time from submission to the
// first scale-out decision and to the first added instance serving, the most instances, and the
// time from the batch's end back to one instance. Bounded: gives up after BENCH_BUDGET_S.
// BENCH_LINES (20000), BENCH_JOBS_PER_INSTANCE (2000), BENCH_MAX_INSTANCES (4), BENCH_BUDGET_S (900).
// The throwaway database lives on DATABASE_URL's server, else 127.0.0.1:5432.
import { randomBytes } from "node:crypto";
import OpenAI, { toFile } from "openai";
import { createDatabase } from "../lib/platform/db/client";
import { createApiKey } from "../lib/control-plane/keys/api-keys";
import { createProvider } from "../lib/data-plane/providers/admin";
import { LocalCluster } from "../tools/cluster-runner/index";
import { activateQueueDepthPolicy, queueDepthPolicy } from "../tools/cluster-runner/queue-depth-policy";
import { createScratchDatabase } from "../tests/helpers/postgres";
import { buildIfNeeded } from "../scripts/build-if-needed";

const LINES = Number(process.env.BENCH_LINES ?? 20_000);
const JOBS_PER_INSTANCE = Number(process.env.BENCH_JOBS_PER_INSTANCE ?? 2_000);
const MAX_INSTANCES = Number(process.env.BENCH_MAX_INSTANCES ?? 4);
const BUDGET_MS = Number(process.env.BENCH_BUDGET_S ?? 900) * 1_000;
const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
const MODEL = "sim-batch";

await buildIfNeeded({ console: false });
const started = performance.now();
const clock = () => `${((performance.now() - started) / 1_000).toFixed(1).padStart(6)} s`;
const say = (message: string) => console.log(`[${clock()}] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number | null) => (ms === null ? "—" : `${(ms / 1_000).toFixed(1)} s`);

const scratch = await createScratchDatabase(`agenticorp_bench_batch_${randomBytes(4).toString("hex")}`, { migrate: true });
const db = createDatabase({ url: scratch.url, poolMax: 2 });
let cluster: LocalCluster | undefined;

try {
  // A simulator with a model's latency, so 20,000 lines are minutes of work for one instance.
  await createProvider(
    db.prisma,
    {
      kind: "simulator",
      name: "simulator-batch",
      settings: { latencyMs: { median: 150, p99: 400 }, tokensPerSecond: 0, errorRate: 0 },
      deployments: [{ modelName: MODEL, upstreamModel: MODEL }],
    },
    SECRET,
  );
  const { key } = await createApiKey(db.prisma, { name: "batch-autoscale bench" });
  await activateQueueDepthPolicy(scratch.url, queueDepthPolicy(JOBS_PER_INSTANCE, MAX_INSTANCES));

  cluster = new LocalCluster({
    instances: 1,
    port: 0,
    databaseUrl: scratch.url,
    secret: SECRET,
    console: false,
    idPrefix: `batch-${randomBytes(2).toString("hex")}`,
    readyTimeoutMs: 180_000,
    env: {
      SCALING_TARGET: "local",
      SCALING_INTERVAL_MS: "2000",
      HEARTBEAT_MS: "1000",
      SEED_SIMULATOR: "false",
      WORKER_CONCURRENCY: "16",
      BATCH_POLL_MAX_MS: "1000",
    },
    onEvent: (message) => say(`cluster: ${message}`),
  });
  await cluster.start();
  const serving = () => cluster!.instances().filter((i) => i.state === "ready").length;
  say(
    `one instance serving at ${cluster.url}; policy: 1–${MAX_INSTANCES} instances, ${JOBS_PER_INSTANCE} queued jobs per instance`,
  );

  const client = new OpenAI({ apiKey: key, baseURL: `${cluster.url}/v1`, maxRetries: 2, timeout: 120_000 });
  const lines = Array.from({ length: LINES }, (_, i) =>
    JSON.stringify({
      custom_id: `req-${i}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: MODEL, messages: [{ role: "user", content: `Say something about ${i}` }], max_tokens: 16 },
    }),
  );
  const file = await client.files.create({
    file: await toFile(Buffer.from(lines.join("\n") + "\n"), "bench.jsonl"),
    purpose: "batch",
  });
  const batch = await client.batches.create({
    input_file_id: file.id,
    endpoint: "/v1/chat/completions",
    completion_window: "24h",
  });
  const submittedAt = performance.now();
  const submittedWall = new Date();
  say(`submitted ${batch.id}: ${LINES.toLocaleString("en-US")} lines (${batch.status})`);

  let firstScaleOutServing: number | null = null;
  let maxServing = serving();
  let finishedAt: number | null = null;
  let backToOneAt: number | null = null;
  let lastReport = 0;
  let status = batch.status;
  while (performance.now() - started < BUDGET_MS) {
    await sleep(1_000);
    const now = performance.now();
    const count = serving();
    maxServing = Math.max(maxServing, count);
    if (count > 1 && firstScaleOutServing === null) {
      firstScaleOutServing = now - submittedAt;
      say(`scaled out: ${count} instances serving, ${seconds(firstScaleOutServing)} after submission`);
    }
    if (finishedAt === null && now - lastReport >= 5_000) {
      lastReport = now;
      const current = await client.batches.retrieve(batch.id);
      status = current.status;
      const counts = current.request_counts;
      say(
        `${status}: ${counts?.completed ?? 0} completed, ${counts?.failed ?? 0} failed of ${counts?.total ?? 0}; ${count} instance(s) serving`,
      );
      if (["completed", "failed", "expired", "cancelled"].includes(status)) {
        finishedAt = now;
        say(`batch ${status} ${seconds(now - submittedAt)} after submission`);
      }
    }
    if (finishedAt !== null && count === 1 && cluster.instances().filter((i) => i.state !== "exited").length === 1) {
      backToOneAt = now;
      say(`back to one instance ${seconds(backToOneAt - finishedAt)} after the batch ended`);
      break;
    }
  }

  // The leader's first decision above one instance, from its own record.
  const { rows } = await db.pool.query<{ at: Date; desired_replicas: number; message: string }>(
    `SELECT at, desired_replicas, message FROM scaling_decisions WHERE at >= $1 AND desired_replicas > 1 ORDER BY id LIMIT 1`,
    [submittedWall],
  );
  const decision = rows[0];
  console.log("\nqueue-depth autoscaling (npm run bench:batch-autoscale)");
  console.log(`  lines submitted                      ${LINES.toLocaleString("en-US")} (simulator, median 150 ms)`);
  console.log(
    `  policy                               1–${MAX_INSTANCES} instances, ${JOBS_PER_INSTANCE} queued jobs per instance`,
  );
  console.log(
    `  submission → first scale-out decision ${decision ? seconds(decision.at.getTime() - submittedWall.getTime()) : "—"}${decision ? `  ("${decision.message}")` : ""}`,
  );
  console.log(`  submission → first added instance serving ${seconds(firstScaleOutServing)}`);
  console.log(`  most instances serving               ${maxServing}`);
  console.log(
    `  batch ${status.padEnd(30)} ${finishedAt === null ? "not within the budget" : `${seconds(finishedAt - submittedAt)} after submission`}`,
  );
  console.log(
    `  batch end → back to one instance     ${backToOneAt === null || finishedAt === null ? "not within the budget" : seconds(backToOneAt - finishedAt)}`,
  );
  if (firstScaleOutServing === null || backToOneAt === null) process.exitCode = 1;
} finally {
  await cluster?.stop().catch((error: Error) => console.error(`stopping the cluster: ${error.message}`));
  await db.close();
  await scratch.drop();
}
