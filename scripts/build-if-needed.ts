// Builds the Next.js console when .next/BUILD_ID is missing (delete .next to force a rebuild).
// Used by `npm start` and before the end-to-end tests.
import { existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { PROJECT_ROOT } from "../lib/version";

export function buildIfNeeded(): void {
  if (existsSync(path.join(PROJECT_ROOT, ".next", "BUILD_ID"))) return;
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

if (import.meta.url === `file://${process.argv[1]}`) buildIfNeeded();
