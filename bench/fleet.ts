// npm run bench:fleet -- [--instances 40] [--pgbouncer] [--idle-seconds 30] [--load-rps 100] [--load-seconds 20]
//                        [--rounds 3] [--settle-seconds 35] [--config-sync listen|poll] [--skip-overview]
//
// Starts N data-plane-only instances (CONSOLE_ENABLED=false) plus one console instance on one
// PostgreSQL database (a throwaway one on DATABASE_URL's server, else 127.0.0.1:5432), in waves,
// with the product's default timings, and prints in one run: PostgreSQL transactions/s and
// connections per instance idle and under load; the time until every instance refuses a revoked
// key and serves from a switched policy; the fleet rate limit's accuracy; leader failover after
// kill -9; each kind of instance's memory; then, in another throwaway database seeded with 24 h of
// snapshots for N instances, the leader's rollup job and the console overview queries. Exits 1
// when a target is missed. Local PostgreSQL allows 100 connections: above ~30 instances use
// --pgbouncer (LISTEN connections stay direct, one per instance).
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { parseConfig } from "../lib/platform/config";
import { buildIfNeeded } from "../scripts/build-if-needed";
import { createScratchDatabase, type ScratchDatabase } from "../tests/helpers/postgres";
import { Fleet, type DatabaseLoad, type Distribution } from "../tests/helpers/fleet";
import { printTimings, seedRollups, TARGET_P95_MS, timeOverview, timeRollupJob } from "./lib/overview";

const { values: args } = parseArgs({
  options: {
    instances: { type: "string", default: "40" },
    pgbouncer: { type: "boolean", default: false },
    "idle-seconds": { type: "string", default: "30" },
    "load-rps": { type: "string", default: "100" },
    "load-seconds": { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
    "settle-seconds": { type: "string", default: "35" },
    "config-sync": { type: "string", default: "listen" },
    "skip-overview": { type: "boolean", default: false },
  },
});
const INSTANCES = Number(args.instances);
const ROUNDS = Number(args.rounds);
const DEFAULTS = parseConfig({});
const TARGETS = {
  idleTransactionsPerSecondPerInstance: 0.5,
  connectionsPerInstance: DEFAULTS.DB_POOL_MAX + 1,
  dataPlaneRssMb: 150,
  propagationMs: 1_000,
  overviewP95Ms: TARGET_P95_MS,
};

const misses: string[] = [];
function check(name: string, ok: boolean, detail: string): void {
  console.log(`${ok ? "ok  " : "MISS"} ${name}: ${detail}`);
  if (!ok) misses.push(name);
}

const ms = (d: Distribution) => `p50 ${d.p50} ms, max ${d.max} ms (${d.count} instances)`;

function printLoad(label: string, load: DatabaseLoad): void {
  console.log(
    `${label}: ${load.transactionsPerSecond} tx/s for ${load.instances} instances = ${load.transactionsPerSecondPerInstance} tx/s per instance` +
      ` over ${load.seconds} s; connections per instance p50 ${load.connectionsPerInstance.p50}, max ${load.connectionsPerInstance.max}` +
      ` (LISTEN ${load.listenPerInstance.max}); PostgreSQL served ${load.serverConnections} connections` +
      (load.requestsPerSecond > 0 ? `; ${load.requestsPerSecond} completions/s` : "") +
      `\n  statements/s by the instances' own count: non-leaders p50 ${load.statementsPerSecond.followers.p50}, max ${load.statementsPerSecond.followers.max}; leader ${load.statementsPerSecond.leader ?? "?"}` +
      `; autovacuum/autoanalyze runs ${load.maintenanceRuns}; sessions opened ${load.sessionsOpened}`,
  );
}

async function measureFleet(): Promise<void> {
  await buildIfNeeded({ console: true });
  const scratch = await createScratchDatabase(`agenticorp_bench_fleet_${randomBytes(4).toString("hex")}`, { migrate: true });
  let fleet: Fleet | undefined;
  try {
    const started = performance.now();
    fleet = await Fleet.start({
      instances: INSTANCES,
      withConsole: true,
      pgbouncer: args.pgbouncer,
      databaseUrl: scratch.url,
      env: { CONFIG_SYNC: args["config-sync"] },
      onEvent: (message) => console.error(`  [cluster] ${message.slice(0, 200)}`),
    });
    console.log(
      `${INSTANCES} data-plane instances + 1 console instance ready in ${Math.round((performance.now() - started) / 1000)} s` +
        (args.pgbouncer ? " (through PgBouncer)" : " (direct)"),
    );
    // Let start-up work (migrations check, first loads, pools at their start-up size) settle.
    // Idle pool connections close after 30 s, so 35 s shows the idle steady state.
    await new Promise((resolve) => setTimeout(resolve, Number(args["settle-seconds"]) * 1000));

    const idle = await fleet.databaseLoad(Number(args["idle-seconds"]));
    printLoad("idle", idle);
    check(
      "idle PostgreSQL tx/s per instance",
      idle.transactionsPerSecondPerInstance <= TARGETS.idleTransactionsPerSecondPerInstance,
      `${idle.transactionsPerSecondPerInstance} (target ≤ ${TARGETS.idleTransactionsPerSecondPerInstance}; the leader's jobs shared out included)`,
    );
    check(
      "idle statements/s of a non-leader instance",
      idle.statementsPerSecond.followers.max <= TARGETS.idleTransactionsPerSecondPerInstance,
      `p50 ${idle.statementsPerSecond.followers.p50}, max ${idle.statementsPerSecond.followers.max} (bounds its transactions/s; target ≤ ${TARGETS.idleTransactionsPerSecondPerInstance})`,
    );
    check(
      "idle connections per instance",
      idle.connectionsPerInstance.max <= TARGETS.connectionsPerInstance,
      `max ${idle.connectionsPerInstance.max} (target ≤ DB_POOL_MAX + 1 = ${TARGETS.connectionsPerInstance})`,
    );

    const loaded = await fleet.databaseLoad(Number(args["load-seconds"]), Number(args["load-rps"]));
    printLoad("under load", loaded);
    check(
      "connections per instance under load",
      loaded.connectionsPerInstance.max <= TARGETS.connectionsPerInstance,
      `max ${loaded.connectionsPerInstance.max} (target ≤ ${TARGETS.connectionsPerInstance})`,
    );

    for (let round = 1; round <= ROUNDS; round++) {
      const revocation = await fleet.revocation();
      check(`revoked key refused everywhere (round ${round})`, revocation.max <= TARGETS.propagationMs, ms(revocation));
      const policy = await fleet.policySwitch();
      check(`policy switch seen everywhere (round ${round})`, policy.max <= TARGETS.propagationMs, ms(policy));
    }

    const limit = 10 * fleet.dataPlaneOnly().length;
    const rate = await fleet.rateLimit(limit);
    check(
      "fleet rate limit",
      rate.admitted <= limit && rate.admitted >= 0.9 * limit && rate.other === 0,
      `${rate.admitted} of ${rate.sent} admitted for a limit of ${limit}/min (${Math.round(rate.share * 1000) / 10}%), ${rate.refused} refused with 429, ${rate.other} other`,
    );

    const memory = await fleet.memory();
    check(
      "data-plane instance RSS",
      memory.dataPlaneMb.max <= TARGETS.dataPlaneRssMb,
      `p50 ${memory.dataPlaneMb.p50} MB, max ${memory.dataPlaneMb.max} MB (target ≤ ${TARGETS.dataPlaneRssMb})`,
    );
    console.log(`console instance RSS: ${memory.consoleMb ?? "?"} MB`);

    const failover = await fleet.failover();
    console.log(
      `leader failover after kill -9 of ${failover.from}: ${failover.ms} ms until ${failover.to} held the lease (LEADER_TTL_MS ${DEFAULTS.LEADER_TTL_MS})`,
    );
  } finally {
    await fleet?.close();
    await scratch.drop();
  }
}

async function measureRollupsAndOverview(): Promise<void> {
  let scratch: ScratchDatabase | undefined;
  let pool: pg.Pool | undefined;
  try {
    scratch = await createScratchDatabase(`agenticorp_bench_fleet_rollups_${randomBytes(4).toString("hex")}`, { migrate: true });
    pool = new pg.Pool({ connectionString: scratch.url, max: 8 });
    const now = Date.now();
    const rows = await seedRollups(pool, now, INSTANCES + 1, 24);
    console.log(`\nseeded ${rows} rollup rows: ${INSTANCES + 1} instances × 24 h at 10 s, 1 min and 10 min`);
    const rollup = await timeRollupJob(pool);
    console.log(
      `leader rollup job, one period's work (${rollup.rowsPerRun} rows): p50 ${rollup.p50.toFixed(1)} ms, p95 ${rollup.p95.toFixed(1)} ms`,
    );
    const timings = await timeOverview(pool, now);
    printTimings(timings);
    const worst = timings.filter((t) => !t.query.startsWith("whole")).reduce((a, b) => (b.p95 > a.p95 ? b : a));
    check(
      "overview query p95",
      worst.p95 <= TARGETS.overviewP95Ms,
      `slowest ${worst.range} ${worst.query} ${worst.p95.toFixed(1)} ms (target ≤ ${TARGETS.overviewP95Ms})`,
    );
  } finally {
    await pool?.end();
    await scratch?.drop();
  }
}

await measureFleet();
if (!args["skip-overview"]) await measureRollupsAndOverview();
console.log(misses.length === 0 ? "\nevery target met" : `\ntargets missed: ${misses.join("; ")}`);
process.exitCode = misses.length === 0 ? 0 : 1;
