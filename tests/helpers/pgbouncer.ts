// A PgBouncer of the test's own (transaction pooling, from deploy/pgbouncer/pgbouncer.ini) in
// front of the test PostgreSQL server, serving every database name, for re-running the lease and
// leader tests through it.
import path from "node:path";
import os from "node:os";
import { mkdtemp, rm } from "node:fs/promises";
import { freePort } from "../../tools/cluster-runner/net";
import { PgBouncer } from "../../tools/cluster-runner/pgbouncer";

export interface TestPgBouncer {
  bouncer: PgBouncer;
  /** `serverUrl` rewritten to go through PgBouncer. */
  url: string;
  close(): Promise<void>;
}

export async function startTestPgBouncer(
  serverUrl: string,
  options: { extra?: Record<string, string>; databaseParams?: string } = {},
): Promise<TestPgBouncer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "agenticorp-pgbouncer-"));
  const server = new URL(serverUrl);
  const bouncer = await PgBouncer.start({
    binary: "/usr/sbin/pgbouncer",
    dir,
    port: await freePort(),
    server: { host: server.hostname, port: Number(server.port || 5432), user: decodeURIComponent(server.username || "postgres") },
    databases: [],
    anyDatabase: true,
    ...(options.databaseParams ? { databaseParams: options.databaseParams } : {}),
    ...(options.extra ? { extra: options.extra } : {}),
  });
  return {
    bouncer,
    url: bouncer.urlFor(serverUrl),
    async close() {
      await bouncer.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
