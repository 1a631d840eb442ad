import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The directory of AgentiCorp's package.json, found by walking up from this module, so it is the
 * same whether the code runs from lib/ (tsx, tests) or from the dist/ server bundle.
 */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "agenticorp") return dir;
    if (path.dirname(dir) === dir) throw new Error(`AgentiCorp's package.json was not found above ${from}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(import.meta.dirname);

/** The product version, from package.json. */
export const VERSION: string = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).version;

/** The server as it runs in production: one ESM bundle of server.ts (scripts/build-server.ts). */
export const SERVER_BUNDLE = path.join(PROJECT_ROOT, "dist", "server.mjs");
