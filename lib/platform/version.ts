import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * AgentiCorp's package.json and its directory, found by walking up from this module, so they are
 * the same whether the code runs from lib/ (tsx, tests) or from the dist/ server bundle.
 */
function findProject(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    const manifest = existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as { name?: string; version: string })
      : undefined;
    if (manifest?.name === "agenticorp") return { root: dir, version: manifest.version };
    if (path.dirname(dir) === dir) throw new Error(`AgentiCorp's package.json was not found above ${from}`);
  }
}

const project = findProject(import.meta.dirname);

export const PROJECT_ROOT = project.root;

/** The product version, from package.json. */
export const VERSION = project.version;

/** The server as it runs in production: one ESM bundle of server.ts (scripts/build-server.ts). */
export const SERVER_BUNDLE = path.join(PROJECT_ROOT, "dist", "server.mjs");
