import pg from "pg";
import { createScratchDatabase } from "/work/wt/batch/tests/helpers/postgres";
import { startServer } from "/work/wt/batch/tests/helpers/server-process";
const windowMs = 60_000;
for (const worker of ["true", "false"]) {
  const db = await createScratchDatabase(`agenticorp_batch_idle_${worker}_${Date.now()}`, { migrate: true });
  const server = await startServer({ env: { DATABASE_URL: db.url, CONSOLE_ENABLED: "false", WORKER_ENABLED: worker, LOG_LEVEL: "info" }, discardOutputAfterStart: true });
  await new Promise((r) => setTimeout(r, 15_000)); // past start-up
  const admin = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, "/postgres") });
  await admin.connect();
  const read = async () => Number((await admin.query("SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1", [db.name])).rows[0].n);
  const before = await read();
  await new Promise((r) => setTimeout(r, windowMs));
  const after = await read();
  console.log(`WORKER_ENABLED=${worker}: ${((after - before) / (windowMs / 1000)).toFixed(2)} transactions/s on an idle instance (it leads: it runs the leader jobs too)`);
  await admin.end();
  await server.stop("SIGTERM");
  await db.drop();
}
