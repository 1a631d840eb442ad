// npm run cluster -- --instances 3 [--port 8080] [--prometheus] [--pgbouncer] [--data-plane-only] [--keep]
//                    [--autoscale [--queue-depth JOBS [--max-instances N]]]
//
// A local AgentiCorp cluster: N instances behind nginx on one PostgreSQL (DATABASE_URL, else the
// local server's agenticorp_cluster database). Type `add`, `remove [id]`, `scale N`, `status` or
// `stop`; Ctrl-C stops everything it started (instances drain first), a second Ctrl-C cuts.
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import pg from "pg";
import { buildIfNeeded } from "./build-if-needed";
import { DEFAULT_CLUSTER_DATABASE_URL, displayUrl } from "../tools/cluster-runner/database";
import { LocalCluster, type InstanceInfo } from "../tools/cluster-runner/index";
import { activateQueueDepthPolicy, QUEUE_DEPTH_POLICY_NAME, queueDepthPolicy } from "../tools/cluster-runner/queue-depth-policy";

const { values } = parseArgs({
  options: {
    instances: { type: "string", default: "3" },
    port: { type: "string", default: "8080" },
    prometheus: { type: "boolean", default: false },
    pgbouncer: { type: "boolean", default: false },
    "data-plane-only": { type: "boolean", default: false },
    /** Let the leader's scaling decisions add and remove instances here (SCALING_TARGET=local). */
    autoscale: { type: "boolean", default: false },
    /** With --autoscale: activate a policy that scales on queued batch jobs, this many per instance. */
    "queue-depth": { type: "string" },
    /** The queue-depth policy's largest fleet (default 4). */
    "max-instances": { type: "string", default: "4" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(
    "usage: npm run cluster -- [--instances N] [--port P] [--prometheus] [--pgbouncer] [--data-plane-only] [--autoscale [--queue-depth JOBS [--max-instances N]]] [--keep]",
  );
  process.exit(0);
}

const instances = Number(values.instances);
const port = Number(values.port);
if (!Number.isInteger(instances) || instances < 1 || instances > 50) fail("--instances must be a whole number from 1 to 50");
if (!Number.isInteger(port) || port < 1 || port > 65535) fail("--port must be a TCP port");
const queueDepth = values["queue-depth"] === undefined ? undefined : Number(values["queue-depth"]);
const maxInstances = Number(values["max-instances"]);
if (queueDepth !== undefined && !values.autoscale) fail("--queue-depth needs --autoscale");
if (queueDepth !== undefined && !(queueDepth > 0 && queueDepth <= 100_000_000))
  fail("--queue-depth must be a number of jobs above 0");
if (!Number.isInteger(maxInstances) || maxInstances < 1 || maxInstances > 50)
  fail("--max-instances must be a whole number from 1 to 50");

function fail(message: string): never {
  console.error(`cluster: ${message}`);
  process.exit(2);
}

const say = (message: string) => console.log(`[cluster] ${message}`);
const consoleEnabled = !values["data-plane-only"];
await buildIfNeeded({ console: consoleEnabled });

// Instance settings come from this environment (LOG_LEVEL, DRAIN_TIMEOUT_MS, ...); the runner sets
// its own on top (PORT, INSTANCE_ID, DATABASE_URL, SECRET, ...).
const cluster = new LocalCluster({
  instances,
  port,
  prometheus: values.prometheus,
  pgbouncer: values.pgbouncer,
  console: consoleEnabled,
  keepRunDir: values.keep,
  ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
  ...(process.env.SECRET ? { secret: process.env.SECRET } : {}),
  // Queue depth: decide every 5 s unless told otherwise, so the demo reacts within seconds.
  env: values.autoscale
    ? { ...(queueDepth !== undefined ? { SCALING_INTERVAL_MS: "5000" } : {}), ...process.env, SCALING_TARGET: "local" }
    : process.env,
  onEvent: say,
  onLog: (instance, line) => {
    const important = (line.level ?? 0) >= 40 || ["elected leader", "draining", "stopped"].includes(String(line.msg));
    if (important)
      console.log(
        `[${instance.id}] ${line.msg}${line.err ? `: ${typeof line.err === "string" ? line.err : JSON.stringify(line.err)}` : ""}`,
      );
  },
});

let stopRequested = 0;
async function shutdown(reason: string): Promise<void> {
  stopRequested++;
  if (stopRequested > 1) {
    say("second stop request: killing what is left");
    for (const instance of cluster.instances()) if (instance.state !== "exited") void cluster.instance(instance.id).kill();
    process.exit(1);
  }
  say(
    `${reason}: draining instances, then stopping nginx${values.pgbouncer ? ", PgBouncer" : ""}${values.prometheus ? ", Prometheus" : ""}`,
  );
  await cluster.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

try {
  // Before the first instance: its first decision must already be the queue's.
  if (queueDepth !== undefined) {
    await activateQueueDepthPolicy(
      process.env.DATABASE_URL ?? DEFAULT_CLUSTER_DATABASE_URL,
      queueDepthPolicy(queueDepth, maxInstances),
    );
    say(
      `scaling       policy ${QUEUE_DEPTH_POLICY_NAME}: 1–${maxInstances} instances, ${queueDepth} queued batch jobs per instance`,
    );
  }
  await cluster.start();
} catch (error) {
  console.error(`cluster: ${(error as Error).message}`);
  process.exit(1);
}

say(`balancer      ${cluster.url}   (API: ${cluster.url}/v1, console: ${cluster.url}/)`);
for (const instance of cluster.instances()) say(`instance      ${instance.id}  ${instance.url}  pid ${instance.pid}`);
if (cluster.prometheusUrl) say(`prometheus    ${cluster.prometheusUrl}`);
say(
  `database      ${displayUrl(cluster.directDatabaseUrl)}${cluster.pooler ? `  (instances go through PgBouncer: ${displayUrl(cluster.databaseUrl)})` : ""}`,
);
say(`run dir       ${cluster.runDir}  (configs and logs${values.keep ? ", kept" : ", removed at stop; --keep keeps them"})`);
say(`a key:        DATABASE_URL=${cluster.directDatabaseUrl} npm run --silent keys:create -- --name demo`);
say("commands:     add | remove [id] | scale N | status | stop");

async function status(): Promise<void> {
  const rows = await registryRows().catch(() => new Map<string, RegistryRow>());
  for (const instance of cluster.instances()) {
    const row = rows.get(instance.id);
    const vitals = row?.vitals ?? {};
    const seen = row ? `${(row.seen_ms_ago / 1000).toFixed(1)}s ago` : "-";
    console.log(
      [
        instance.id.padEnd(12),
        `pid ${instance.pid}`.padEnd(11),
        `${instance.url ?? "-"}`.padEnd(24),
        instance.state.padEnd(9),
        `registry ${row?.status ?? "-"}`.padEnd(18),
        `seen ${seen}`.padEnd(14),
        `cpu ${vitals.cpu_percent ?? "-"}%`.padEnd(11),
        `rps ${vitals.requests_per_second ?? "-"}`.padEnd(10),
        `in-flight ${vitals.in_flight ?? "-"}`,
      ].join(" "),
    );
  }
}

interface RegistryRow {
  status: string;
  seen_ms_ago: number;
  vitals: Record<string, number> | null;
}

async function registryRows(): Promise<Map<string, RegistryRow>> {
  const client = new pg.Client({ connectionString: cluster.directDatabaseUrl, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    const { rows } = await client.query<RegistryRow & { id: string }>(
      `SELECT id, status::text, (extract(epoch FROM now() - last_seen_at) * 1000)::float8 AS seen_ms_ago, vitals FROM instances`,
    );
    return new Map(rows.map((r) => [r.id, r]));
  } finally {
    await client.end();
  }
}

const describe = (list: InstanceInfo[]) => list.map((i) => `${i.id} (${i.url})`).join(", ");

const input = createInterface({ input: process.stdin });
input.on("line", (line) => {
  const [command, argument] = line.trim().split(/\s+/);
  const run = async () => {
    switch (command) {
      case "":
      case undefined:
        return;
      case "add":
        await cluster.addInstance();
        return;
      case "remove":
        return say(`removed ${describe([await cluster.removeInstance(argument)])}`);
      case "scale":
        await cluster.scaleTo(Number(argument));
        return say(`now ${cluster.instances().filter((i) => i.state === "ready").length} serving`);
      case "status":
        return status();
      case "stop":
      case "quit":
      case "exit":
        return shutdown("stop");
      default:
        say(`unknown command ${JSON.stringify(command)}: add | remove [id] | scale N | status | stop`);
    }
  };
  run().catch((error: Error) => say(`${command} failed: ${error.message}`));
});
// Without a terminal (stdin closed, e.g. `< /dev/null`), keep running until a signal.
input.on("close", () => {});
