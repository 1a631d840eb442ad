import path from "node:path";
import { defineConfig } from "vitest/config";
import { SERVER_ONLY_OUTSIDE_NEXT } from "./scripts/lib/server-only.ts";

// Unit and integration tests. Integration tests use a real PostgreSQL: a database created for
// this run (tests/setup/database.ts) on DATABASE_URL's server, else 127.0.0.1:5432.
export default defineConfig({
  // server-only throws outside Next's react-server layer; tests call the guarded console modules directly.
  resolve: { alias: { "@": path.resolve(import.meta.dirname), "server-only": SERVER_ONLY_OUTSIDE_NEXT } },
  test: {
    include: ["tests/unit/**/*.test.ts", "tests/integration/**/*.test.ts"],
    globalSetup: ["tests/setup/server-bundle.ts", "tests/setup/database.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default"],
  },
});
