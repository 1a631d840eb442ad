import path from "node:path";
import { defineConfig } from "vitest/config";
import { SERVER_ONLY_OUTSIDE_NEXT } from "./scripts/lib/server-only.ts";

// End-to-end tests: real server processes (and nginx, Prometheus, Chromium where they are the
// subject), one file at a time so they do not compete for the two cores.
export default defineConfig({
  // server-only throws outside Next's react-server layer; tests call the guarded console modules directly.
  resolve: { alias: { "@": path.resolve(import.meta.dirname), "server-only": SERVER_ONLY_OUTSIDE_NEXT } },
  test: {
    include: ["tests/e2e/**/*.test.ts"],
    globalSetup: ["tests/setup/server-bundle.ts", "tests/setup/database.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: "forks",
  },
});
