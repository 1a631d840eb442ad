// Makes what a server process runs: the Next.js console when .next/BUILD_ID is missing (delete
// .next to force a rebuild) and, always, the server bundle (about a second, so it never lags the
// sources). Used by `npm start`, the cluster runner, the benchmarks and before the tests.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { PROJECT_ROOT } from "../lib/platform/version";
import { buildServer } from "./build-server";

export async function buildIfNeeded({ console: withConsole = true } = {}): Promise<void> {
  if (withConsole && !existsSync(path.join(PROJECT_ROOT, ".next", "BUILD_ID"))) buildConsole();
  await buildServer();
}

function buildConsole(): void {
  console.error("No console build found: running `next build` once (about a minute)...");
  const result = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "node_modules/next/dist/bin/next"), "build"], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
  });
  if (result.status !== 0) {
    console.error("next build failed");
    process.exit(result.status ?? 1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await buildIfNeeded();
