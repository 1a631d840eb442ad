// Prisma CLI configuration: the JavaScript schema engine over adapter-pg, so that no command
// downloads a native engine (see shared/STACK.md "Prisma offline"). Run the CLI through
// `npm run prisma -- …`, which also sets the no-op engine paths.
import path from "node:path";
import { defineConfig } from "prisma/config";
import { migrationAdapter } from "./lib/platform/db/migration-adapter";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  adapter: async () => migrationAdapter(),
});
