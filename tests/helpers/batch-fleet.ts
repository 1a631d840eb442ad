// A batch run across a fleet of real instances on a database of its own, optionally killing one
// (kill -9) midway: used by tests/e2e/batch-fleet.test.ts and bench/batch.ts. Reports what came back
// (every custom_id, duplicates, missing ones) and who answered how much (the lease owner stays on
// each finished job).
import os from "node:os";
import path from "node:path";
import OpenAI, { toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import { createDatabase } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { chatLines, parseJsonl, toJsonl } from "./batch-files";
import { createScratchDatabase } from "./postgres";
import { startServer, type ServerProcess } from "./server-process";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";

export interface FleetBatchOptions {
  lines: number;
  instances: number;
  /** Kill -9 one instance (the one holding the most jobs) once this share of the lines is answered. */
  killAt?: number;
  /** Per-instance batch concurrency. */
  concurrency: number;
  timeoutMs: number;
  /** The simulator's median latency per request. */
  latencyMs?: number;
  log?: (message: string) => void;
}

export interface InstanceShare {
  instance: string;
  answered: number;
  /** Lines per second over the batch's whole run. */
  perSecond: number;
  killed: boolean;
}

export interface FleetBatchReport {
  batch: Batch;
  /** From batches.create to the batch seen completed. */
  durationMs: number;
  outputLines: number;
  errorLines: number;
  duplicates: string[];
  missing: string[];
  unexpected: string[];
  /** Lines whose job was claimed more than once (taken over from the killed instance). */
  reclaimed: number;
  killed?: string;
  killedAtMs?: number;
  shares: InstanceShare[];
}

export async function runFleetBatch(options: FleetBatchOptions): Promise<FleetBatchReport> {
  const log = options.log ?? (() => {});
  const scratch = await createScratchDatabase(`agenticorp_batch_fleet_${Date.now()}_${process.pid}`, { migrate: true });
  const database = createDatabase({ url: scratch.url, poolMax: 2 });
  const servers: ServerProcess[] = [];
  try {
    const model = "batch-sim";
    const latency = options.latencyMs ?? 10;
    await createProvider(
      database.prisma,
      {
        kind: "simulator",
        name: "batch-simulator",
        settings: { latencyMs: { median: latency, p99: latency * 4 }, tokensPerSecond: 0, errorRate: 0, answerWords: 8 },
        deployments: [{ modelName: model, upstreamModel: "sim" }],
      },
      SECRET,
    );
    const { key } = await createApiKey(database.prisma, { name: "batch-fleet" });
    const env = {
      DATABASE_URL: scratch.url,
      SECRET,
      CONSOLE_ENABLED: "false",
      LOG_LEVEL: "info",
      HEARTBEAT_MS: "500",
      INSTANCE_DEAD_AFTER_MS: "3000",
      LEADER_TTL_MS: "2000",
      BATCH_JOB_LEASE_MS: "3000",
      BATCH_POLL_MAX_MS: "500",
      WORKER_CONCURRENCY: String(options.concurrency),
      DRAIN_TIMEOUT_MS: "5000",
    };
    // Logs to files (an access line per batch line would otherwise pile up in this process).
    for (let i = 0; i < options.instances; i++) {
      const logFile = path.join(os.tmpdir(), `${scratch.name}-${i}.log`);
      servers.push(await startServer({ env: { ...env, INSTANCE_ID: `batch-fleet-${i}` }, logFile }));
    }
    for (const server of servers) {
      for (
        let i = 0;
        i < 100 && !(await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).ok;
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
    }
    const clientOf = (server: ServerProcess) =>
      new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 2, timeout: 60_000 });

    const input = chatLines(options.lines, model, "line");
    const file = await clientOf(servers[0]!).files.create({
      file: await toFile(Buffer.from(toJsonl(input)), "fleet.jsonl"),
      purpose: "batch",
    });
    const started = Date.now();
    const created = await clientOf(servers[0]!).batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    log(`batch ${created.id}: ${options.lines} lines on ${options.instances} instances`);

    let killed: string | undefined;
    let killedAtMs: number | undefined;
    let batch: Batch = created;
    let watcher = servers[0]!;
    let lastProgress = Date.now();
    while (!["completed", "failed", "expired", "cancelled"].includes(batch.status)) {
      if (Date.now() - started > options.timeoutMs)
        throw new Error(
          `batch not done within ${options.timeoutMs} ms: ${JSON.stringify(batch.request_counts)} (${batch.status})`,
        );
      await new Promise((r) => setTimeout(r, 250));
      batch = await clientOf(watcher).batches.retrieve(created.id);
      const answered = batch.request_counts?.completed ?? 0;
      if (Date.now() - lastProgress >= 5_000) {
        lastProgress = Date.now();
        log(`  ${((Date.now() - started) / 1000).toFixed(1)} s: ${batch.status}, ${answered} answered`);
      }
      if (options.killAt !== undefined && !killed && answered >= options.lines * options.killAt) {
        const { rows } = await database.pool.query<{ instance: string; n: number }>(
          `SELECT split_part(lease_owner, '#', 1) AS instance, count(*)::int AS n FROM batch_jobs WHERE batch_id = $1 AND status = 'running' GROUP BY 1 ORDER BY 2 DESC`,
          [created.id],
        );
        const victim = servers.find((s) => s.instanceId === rows[0]?.instance) ?? servers.at(-1)!;
        victim.child.kill("SIGKILL");
        await victim.exited;
        killed = victim.instanceId;
        killedAtMs = Date.now() - started;
        log(
          `kill -9 ${killed} at ${answered} answered (${killedAtMs} ms), holding ${rows.find((r) => r.instance === killed)?.n ?? 0} jobs`,
        );
        watcher = servers.find((s) => s !== victim)!;
      }
    }
    const durationMs = Date.now() - started;
    const client = clientOf(watcher);
    const output = batch.output_file_id ? parseJsonl(await (await client.files.content(batch.output_file_id)).text()) : [];
    const errors = batch.error_file_id ? parseJsonl(await (await client.files.content(batch.error_file_id)).text()) : [];
    const seen = new Map<string, number>();
    for (const line of [...output, ...errors]) seen.set(line.custom_id, (seen.get(line.custom_id) ?? 0) + 1);
    const expected = new Set(input.map((l) => l.custom_id));
    const { rows: shares } = await database.pool.query<{ instance: string; n: number }>(
      `SELECT split_part(lease_owner, '#', 1) AS instance, count(*)::int AS n FROM batch_jobs WHERE batch_id = $1 GROUP BY 1 ORDER BY 1`,
      [created.id],
    );
    const { rows: reclaimed } = await database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM batch_jobs WHERE batch_id = $1 AND attempts > 1`,
      [created.id],
    );
    return {
      batch,
      durationMs,
      outputLines: output.length,
      errorLines: errors.length,
      duplicates: [...seen].filter(([, n]) => n > 1).map(([id]) => id),
      missing: [...expected].filter((id) => !seen.has(id)),
      unexpected: [...seen.keys()].filter((id) => !expected.has(id)),
      reclaimed: reclaimed[0]!.n,
      killed,
      killedAtMs,
      shares: shares.map((s) => ({
        instance: s.instance,
        answered: s.n,
        perSecond: s.n / (durationMs / 1000),
        killed: s.instance === killed,
      })),
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop("SIGKILL").catch(() => undefined)));
    await database.close();
    await scratch.drop();
  }
}

export function describeFleetBatch(report: FleetBatchReport): string[] {
  const seconds = report.durationMs / 1000;
  return [
    `batch ${report.batch.id}: ${report.batch.status}, ${JSON.stringify(report.batch.request_counts)} in ${seconds.toFixed(1)} s = ${((report.batch.request_counts?.total ?? 0) / seconds).toFixed(0)} lines/s fleet-wide`,
    ...report.shares.map(
      (s) => `  ${s.instance}${s.killed ? " (killed)" : ""}: ${s.answered} lines, ${s.perSecond.toFixed(1)} lines/s`,
    ),
    `  output ${report.outputLines} lines, errors ${report.errorLines}, duplicates ${report.duplicates.length}, missing ${report.missing.length}, reclaimed after the kill ${report.reclaimed}`,
  ];
}
