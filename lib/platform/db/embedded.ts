// The embedded PostgreSQL used when DATABASE_URL is unset: PGlite in a worker thread (so its
// WASM work stays off the event loop that serves requests), data under DATA_DIR/pglite.
// PGlite is single-process: a lock file keeps a second process from opening the same folder.
import { Worker } from "node:worker_threads";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { PROJECT_ROOT } from "../version";

/** Where a running embedded database tells other local processes (the admin CLIs) its port. */
function embeddedPortFile(dataDir: string): string {
  return path.join(dataDir, "pglite.port");
}

/** The URL of the embedded database another process in this data folder is serving, if any. */
export async function runningEmbeddedUrl(dataDir: string): Promise<string | undefined> {
  try {
    const holder = Number((await readFile(path.join(dataDir, "pglite.lock"), "utf8")).trim());
    const port = Number((await readFile(embeddedPortFile(dataDir), "utf8")).trim());
    if (holder && port && holder !== process.pid && isRunning(holder)) return `postgresql://postgres@127.0.0.1:${port}/postgres`;
  } catch {
    // no running embedded database
  }
  return undefined;
}

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function takeLock(lockFile: string): Promise<void> {
  try {
    const handle = await open(lockFile, "wx");
    await handle.writeFile(String(process.pid));
    await handle.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const holder = Number((await readFile(lockFile, "utf8")).trim());
    if (holder && holder !== process.pid && isRunning(holder)) {
      throw new Error(
        `The embedded database in ${path.dirname(lockFile)} is in use by process ${holder}. ` +
          "Several instances need a shared PostgreSQL server: set DATABASE_URL.",
      );
    }
    await rm(lockFile, { force: true });
    return takeLock(lockFile);
  }
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, "pglite.lock");
  await takeLock(lockFile);
  const worker = new Worker(path.join(PROJECT_ROOT, "lib", "platform", "db", "embedded-postgres-worker.mjs"), {
    workerData: { dataDir: path.join(dataDir, "pglite") },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`embedded PostgreSQL exited with code ${code}`)));
    worker.on("message", (message: { type: string; port?: number }) => {
      if (message.type === "listening") resolve(message.port!);
    });
  });
  worker.removeAllListeners("exit");
  worker.removeAllListeners("error");
  await writeFile(embeddedPortFile(dataDir), String(port));
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        worker.on("message", (message: { type: string }) => message.type === "stopped" && resolve());
        worker.once("exit", () => resolve());
      });
      worker.postMessage({ type: "stop" });
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await worker.terminate();
      await rm(embeddedPortFile(dataDir), { force: true });
      await rm(lockFile, { force: true });
    },
  };
}
