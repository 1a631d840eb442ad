// PgBouncer in transaction pooling mode in front of the cluster's PostgreSQL, started from the
// production example (deploy/pgbouncer/pgbouncer.ini) with only addresses, files and
// authentication overridden for a loopback run, so the runner exercises the shipped pooling
// settings rather than a look-alike.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { startOwnedChild, type OwnedChild } from "./child";
import { waitForPort } from "./net";

export const PGBOUNCER_EXAMPLE = path.join(PROJECT_ROOT, "deploy", "pgbouncer", "pgbouncer.ini");

export interface PgBouncerSettings {
  binary: string;
  /** Its own directory (configuration, auth file); made readable by `runAsUser`. */
  dir: string;
  port: number;
  /** The PostgreSQL server it pools for. */
  server: { host: string; port: number; user: string; password?: string };
  /** Database names served: each maps to the same name on the server. */
  databases: string[];
  /** Also serve any other database name by the same name on the server (a fallback entry). */
  anyDatabase?: boolean;
  /** Appended to every [databases] entry, e.g. `connect_query='SET ...'`. */
  databaseParams?: string;
  /** PgBouncer refuses to run as root; when we are root it switches to this user (default postgres). */
  runAsUser?: string;
  /** Settings for [pgbouncer] on top of the example and the loopback overrides. */
  extra?: Record<string, string>;
}

/**
 * Replaces the [databases] section and sets the given [pgbouncer] keys (replacing the example's
 * value where it has one, appending otherwise); every other line is kept as written.
 */
export function overrideIni(example: string, databases: string[], settings: Record<string, string>): string {
  const out: string[] = [];
  let section = "";
  const pending = new Map(Object.entries(settings));
  const flushPending = () => {
    for (const [key, value] of pending) out.push(`${key} = ${value}`);
    pending.clear();
  };
  for (const line of example.split("\n")) {
    const header = /^\s*\[(\w+)\]\s*$/.exec(line);
    if (header) {
      if (section === "pgbouncer") flushPending();
      section = header[1]!;
      out.push(line);
      if (section === "databases") out.push(...databases);
      continue;
    }
    if (section === "databases" && !/^\s*(;|$)/.test(line)) continue;
    const setting = /^\s*([\w.]+)\s*=/.exec(line);
    if (section === "pgbouncer" && setting && pending.has(setting[1]!)) {
      out.push(`${setting[1]} = ${pending.get(setting[1]!)}`);
      pending.delete(setting[1]!);
      continue;
    }
    out.push(line);
  }
  if (section === "pgbouncer") flushPending();
  else if (pending.size > 0) throw new Error("the PgBouncer example has no [pgbouncer] section");
  return out.join("\n");
}

function connectionString(settings: PgBouncerSettings, dbname?: string): string {
  const { host, port, user, password } = settings.server;
  const parts = [`host=${host}`, `port=${port}`, `user=${user}`];
  if (password) parts.push(`password=${password}`);
  if (dbname) parts.push(`dbname=${dbname}`);
  if (settings.databaseParams) parts.push(settings.databaseParams);
  return parts.join(" ");
}

async function renderPgBouncerConfig(settings: PgBouncerSettings): Promise<string> {
  const example = await readFile(PGBOUNCER_EXAMPLE, "utf8");
  const databases = settings.databases.map((name) => `${name} = ${connectionString(settings, name)}`);
  if (settings.anyDatabase) databases.push(`* = ${connectionString(settings)}`);
  return overrideIni(example, databases, {
    listen_addr: "127.0.0.1",
    listen_port: String(settings.port),
    // Loopback only, and PgBouncer logs in to PostgreSQL with the server credentials above.
    auth_type: "trust",
    auth_file: path.join(settings.dir, "userlist.txt"),
    admin_users: settings.server.user,
    stats_users: settings.server.user,
    // Foreground child: log to stderr, no pid file.
    logfile: "",
    pidfile: "",
    ...settings.extra,
  });
}

export class PgBouncer {
  private constructor(
    readonly settings: PgBouncerSettings,
    readonly process: OwnedChild,
  ) {}

  static async start(settings: PgBouncerSettings): Promise<PgBouncer> {
    await mkdir(settings.dir, { recursive: true });
    // Readable by the unprivileged user PgBouncer switches to.
    await chmod(settings.dir, 0o755);
    const ini = path.join(settings.dir, "pgbouncer.ini");
    await writeFile(ini, await renderPgBouncerConfig(settings), { mode: 0o644 });
    await writeFile(path.join(settings.dir, "userlist.txt"), `"${settings.server.user}" ""\n`, { mode: 0o644 });
    const asRoot = process.getuid?.() === 0;
    const child = startOwnedChild({
      name: "pgbouncer",
      command: settings.binary,
      args: [...(asRoot ? ["-u", settings.runAsUser ?? "postgres"] : []), ini],
      cwd: settings.dir,
      logFile: path.join(settings.dir, "pgbouncer.log"),
    });
    try {
      await waitForPort(settings.port, 10_000, () =>
        child.exitStatus() ? `pgbouncer exited at start:\n${child.tail()}` : undefined,
      );
    } catch (error) {
      await child.stop("SIGTERM", 2_000);
      throw error;
    }
    return new PgBouncer(settings, child);
  }

  /** `url` with host and port replaced by this PgBouncer's. */
  urlFor(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = "127.0.0.1";
    parsed.port = String(this.settings.port);
    return parsed.toString();
  }

  /** Runs `SHOW <what>` on PgBouncer's admin console. */
  async show(what: "POOLS" | "CLIENTS" | "SERVERS" | "CONFIG" | "STATS" | "DATABASES"): Promise<Array<Record<string, unknown>>> {
    const client = new pg.Client({
      host: "127.0.0.1",
      port: this.settings.port,
      user: this.settings.server.user,
      database: "pgbouncer",
    });
    await client.connect();
    try {
      // Without parameters node-postgres uses the simple query protocol, the only one the admin
      // console speaks.
      const result = await client.query<Record<string, unknown>>(`SHOW ${what}`);
      return result.rows;
    } finally {
      await client.end();
    }
  }

  async stop(graceMs = 5_000): Promise<void> {
    // SIGTERM: close everything now. (SIGINT would wait for clients to leave, which instances
    // that are already stopped have done anyway.)
    await this.process.stop("SIGTERM", graceMs);
  }
}
