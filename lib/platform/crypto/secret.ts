// SECRET encrypts stored provider credentials and signs console sessions. Without one (never in
// production with an external database, see lib/platform/config.ts) it is generated once and kept in the
// data folder, so restarts and local instances sharing the folder agree on it.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config";

export async function ensureSecret(config: Config): Promise<string> {
  if (config.SECRET) return config.SECRET;
  const file = path.join(config.DATA_DIR, "secret");
  try {
    const stored = (await readFile(file, "utf8")).trim();
    if (stored.length >= 32) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(config.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  // "wx" fails if another process wrote it first; then read theirs.
  try {
    await writeFile(file, secret + "\n", { mode: 0o600, flag: "wx" });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return (await readFile(file, "utf8")).trim();
  }
}
