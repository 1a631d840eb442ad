// Runs the Prisma CLI with no native engines, so no command tries to download one
// (shared/STACK.md "Prisma offline"). Usage: npm run prisma -- migrate dev --name x
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js");
const noEngine = "/bin/true";
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: noEngine,
    PRISMA_QUERY_ENGINE_LIBRARY: noEngine,
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
process.exit(result.status ?? 1);
