// Bundles server.ts and the modules it imports into dist/server.mjs (packages stay external), so
// instances run plain JavaScript: no TypeScript loader thread, no transform at start, and none of
// the loader's per-function name bookkeeping on the hot path. Well under a second; run by `npm run
// build`, `npm start` and before the tests, so the bundle never lags the sources it is tested as.
import { build, stop } from "esbuild";
import path from "node:path";
import { PROJECT_ROOT, SERVER_BUNDLE } from "../lib/platform/version";
import { serverOnlyOutsideNext } from "./lib/server-only";

export async function buildServer(): Promise<void> {
  await build({
    entryPoints: [path.join(PROJECT_ROOT, "server.ts")],
    outdir: path.dirname(SERVER_BUNDLE),
    outExtension: { ".js": ".mjs" },
    // Dynamic imports become chunks loaded on use (the Kubernetes client, only for that target).
    splitting: true,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    tsconfig: path.join(PROJECT_ROOT, "tsconfig.json"),
    plugins: [serverOnlyOutsideNext],
    logLevel: "warning",
  });
  // `npm start` runs the server in this process: esbuild's helper process need not live on.
  await stop();
}

if (import.meta.url === `file://${process.argv[1]}`) await buildServer();
