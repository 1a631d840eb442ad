// Starts the product for a benchmark: a throwaway database, the providers and key the run needs,
// and one server process. Everything is stopped and dropped by `stop()`.
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDatabase } from "../../lib/platform/db/client";
import { applyMigrations } from "../../lib/platform/db/migrate";
import { createApiKey, type CreateApiKeyInput } from "../../lib/control-plane/keys/api-keys";
import { createProvider, type CreateProviderInput } from "../../lib/data-plane/providers/admin";
import { buildIfNeeded } from "../../scripts/build-if-needed";
import { createScratchDatabase } from "../../tests/helpers/postgres";
import { startServer, type ServerProcess } from "../../tests/helpers/server-process";

const BENCH_SECRET = "bench-secret-0123456789abcdef0123456789abcdef";

export interface BenchProduct {
  server: ServerProcess;
  key: string;
  stop(): Promise<void>;
}

/**
 * BENCH_NODE_ARGS adds node flags to the product process, e.g. to profile it under a benchmark:
 * BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/profiles" npm run bench:overhead
 */
export async function startProduct(
  providers: CreateProviderInput[],
  env: Record<string, string> = {},
  nodeArgs: string[] = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
  /** The bench key's limits and budgets (none by default). */
  keyInput: Partial<CreateApiKeyInput> = {},
): Promise<BenchProduct> {
  await buildIfNeeded({ console: env.CONSOLE_ENABLED !== "false" });
  const name = `agenticorp_bench_${randomBytes(4).toString("hex")}`;
  const scratch = await createScratchDatabase(name);
  // Logs go to a file, as to a container runtime's log (see StartOptions.logFile).
  const logFile = path.join(os.tmpdir(), `${name}.log`);
  const database = createDatabase({ url: scratch.url, poolMax: 2 });
  const removeTheRest = async () => {
    await database.close();
    await scratch.drop();
    rmSync(logFile, { force: true });
  };
  let server: ServerProcess | undefined;
  try {
    await applyMigrations(database.pool);
    for (const provider of providers) await createProvider(database.prisma, provider, BENCH_SECRET);
    const { key } = await createApiKey(database.prisma, { name: "bench", ...keyInput });
    server = await startServer({
      env: { DATABASE_URL: scratch.url, SECRET: BENCH_SECRET, LOG_LEVEL: "info", ...env },
      discardOutputAfterStart: true,
      logFile,
      nodeArgs,
    });
    // Until the key table has loaded the first request would be a 401.
    for (let i = 0; i < 100; i++) {
      const response = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
      if (response.ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const running = server;
    return {
      server: running,
      key,
      async stop() {
        await running.stop("SIGTERM");
        await removeTheRest();
      },
    };
  } catch (error) {
    await server?.stop("SIGKILL");
    await removeTheRest();
    throw error;
  }
}

/** The product's resident memory, from its own /health vitals. */
export async function rssMegabytes(server: ServerProcess): Promise<number> {
  const health = (await (await fetch(`${server.url}/health`)).json()) as { vitals: { rss_bytes: number } };
  return Math.round(health.vitals.rss_bytes / 1_048_576);
}
