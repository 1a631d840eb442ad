// A throwaway PostgreSQL cluster of the test's own (initdb into a temporary directory, its own
// loopback port), for tests that stop and start the database on purpose: the system server on
// 5432 serves other tests meanwhile and is never touched. When we are root, every PostgreSQL
// command runs as the `postgres` OS user (PostgreSQL refuses to run as root).
import { execFile } from "node:child_process";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../tools/cluster-runner/net";

const run = promisify(execFile);
const BIN = "/usr/lib/postgresql/15/bin";
const OS_USER = "postgres";

async function asPostgres(command: string, args: string[]): Promise<string> {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot
    ? ["runuser", ["-u", OS_USER, "--", path.join(BIN, command), ...args]]
    : [path.join(BIN, command), args];
  try {
    const { stdout } = await run(file, argv, { timeout: 60_000 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${command} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

export class ThrowawayPostgres {
  private running = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get dataDir(): string {
    return path.join(this.dir, "data");
  }

  /** A URL for `database` on this cluster (user postgres, trust on loopback). */
  url(database = "postgres"): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  static async create(): Promise<ThrowawayPostgres> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "agenticorp-pg-"));
    if (process.getuid?.() === 0) {
      const { stdout: uid } = await run("id", ["-u", OS_USER]);
      const { stdout: gid } = await run("id", ["-g", OS_USER]);
      await chown(dir, Number(uid), Number(gid));
    }
    const cluster = new ThrowawayPostgres(dir, await freePort());
    await asPostgres("initdb", [
      "-D",
      cluster.dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-sync",
      "--no-instructions",
    ]);
    await cluster.start();
    return cluster;
  }

  async start(): Promise<void> {
    // Durability is not under test: skip the fsyncs that would make a two-core box crawl.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    await asPostgres("pg_ctl", [
      "start",
      "-w",
      "-t",
      "30",
      "-D",
      this.dataDir,
      "-l",
      path.join(this.dir, "postgres.log"),
      "-o",
      options,
    ]);
    this.running = true;
  }

  /** Fast shutdown: open sessions are terminated, as in a failover or a crash of the server. */
  async stop(): Promise<void> {
    await asPostgres("pg_ctl", ["stop", "-w", "-t", "30", "-m", "fast", "-D", this.dataDir]);
    this.running = false;
  }

  /** The postmaster's PID (first line of postmaster.pid), while running. */
  async pid(): Promise<number> {
    return Number((await readFile(path.join(this.dataDir, "postmaster.pid"), "utf8")).split("\n")[0]);
  }

  async destroy(): Promise<void> {
    if (this.running) await this.stop().catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}
