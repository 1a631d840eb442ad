// npm run bench:query — the console's overview queries on the PostgreSQL metrics source over
// 24 h of rollups for 10 instances (`-- --instances N` for another fleet size). Seeds a throwaway database (10 s, 1 min and 10 min rows for
// the whole 24 h: more 10 s rows than their 6 h retention keeps, so the table is at its largest),
// then runs each query of each overview range repeatedly and prints p50/p95; also the whole
// overview as the console asks for it (every panel at once). Exits 1 when a query's p95 is over
// the target. The throwaway database lives on DATABASE_URL's server, else 127.0.0.1:5432.
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { printTimings, seedRollups, TARGET_P95_MS, timeOverview, TIMING_NOTE } from "./lib/overview";
import { createScratchDatabase, type ScratchDatabase } from "../tests/helpers/postgres";

const INSTANCES = Number(parseArgs({ options: { instances: { type: "string", default: "10" } } }).values.instances);
const HOURS = 24;

async function main(): Promise<number> {
  let scratch: ScratchDatabase | undefined;
  let pool: pg.Pool | undefined;
  try {
    scratch = await createScratchDatabase(`agenticorp_bench_query_${randomBytes(4).toString("hex")}`, { migrate: true });
    pool = new pg.Pool({ connectionString: scratch.url, max: 8 });
    const now = Date.now();
    const seedStarted = performance.now();
    const rows = await seedRollups(pool, now, INSTANCES, HOURS);
    console.log(
      `seeded ${rows} rollup rows (${INSTANCES} instances × ${HOURS} h at 10 s, 1 min and 10 min) in ${Math.round(performance.now() - seedStarted)} ms`,
    );
    const results = await timeOverview(pool, now);
    console.log(`\n${TIMING_NOTE}\n`);
    printTimings(results);
    const over = results.filter((r) => !r.query.startsWith("whole") && r.p95 > TARGET_P95_MS);
    if (over.length > 0) {
      console.log(`\nover target: ${over.map((r) => `${r.range} ${r.query} (${r.p95.toFixed(1)} ms)`).join(", ")}`);
      return 1;
    }
    console.log(`\nevery query within ${TARGET_P95_MS} ms p95`);
    return 0;
  } finally {
    await pool?.end();
    await scratch?.drop();
  }
}

process.exitCode = await main();
