// npm run bench:jobs — what each instance's periodic database work costs the event loop that also
// serves completions: the configuration's safety-net check (every CONFIG_REFRESH_MS), a full
// configuration reload (on a change), and the heartbeat with the live-instance count (every
// HEARTBEAT_MS). Baselines in the same run: a bare `SELECT 1` round trip, and the same reload
// through Prisma (four reads in a $transaction, as the product did before). Each is run in turn
// while a setImmediate ticker records how long the event loop went without a turn: the longest
// such stretch is what a completion request arriving at that moment would wait.
// BENCH_KEYS sets the number of API keys (default 1 and 1,000). The throwaway database lives on
// DATABASE_URL's server, else 127.0.0.1:5432.
import { randomBytes } from "node:crypto";
import os from "node:os";
import { heartbeat, registerInstance } from "../lib/platform/coordination/registry";
import { createDatabase, type Database } from "../lib/platform/db/client";
import { EMPTY_SNAPSHOT, loadSnapshot, readConfigVersion } from "../lib/data-plane/fleet-config/snapshot";
import { createProvider } from "../lib/data-plane/providers/admin";
import { createScratchDatabase } from "../tests/helpers/postgres";

const SECRET = "bench-secret-0123456789abcdef0123456789abcdef";
const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const KEY_COUNTS = (process.env.BENCH_KEYS ?? "1,1000").split(",").map(Number);

/** Gaps between event-loop turns while `work` runs, sorted ascending. */
async function loopGaps(work: () => Promise<void>): Promise<number[]> {
  const gaps: number[] = [];
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    await work();
  } finally {
    running = false;
  }
  return gaps.sort((a, b) => a - b);
}

async function measure(name: string, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 30; i++) await call();
  const started = performance.now();
  const gaps = await loopGaps(async () => {
    for (let i = 0; i < CALLS; i++) await call();
  });
  const perCallMs = (performance.now() - started) / CALLS;
  const over1ms = gaps.filter((g) => g > 1).length;
  console.log(
    `${name.padEnd(44)} ${perCallMs.toFixed(2).padStart(7)} ${gaps[Math.floor(gaps.length * 0.999)]!.toFixed(2).padStart(9)} ${gaps.at(-1)!.toFixed(2).padStart(8)} ${(over1ms / CALLS).toFixed(2).padStart(10)}`,
  );
  return perCallMs;
}

/** What loadSnapshot replaced: the same four reads through Prisma's query interpreter. */
function prismaReload(db: Database) {
  const { prisma } = db;
  return () =>
    prisma.$transaction([
      prisma.apiKey.findMany({
        where: { revokedAt: null },
        select: { id: true, name: true, keyHash: true, rpmLimit: true, allowedModels: true },
      }),
      prisma.provider.findMany({ where: { enabled: true } }),
      prisma.deployment.findMany({ where: { enabled: true }, orderBy: { id: "asc" } }),
      prisma.scalingPolicy.findFirst({ where: { active: true }, select: { id: true, name: true, spec: true } }),
    ]);
}

async function benchKeys(keyCount: number): Promise<void> {
  const scratch = await createScratchDatabase(`agenticorp_bench_jobs_${randomBytes(4).toString("hex")}`, { migrate: true });
  const db = createDatabase({ url: scratch.url, poolMax: 2 });
  try {
    await createProvider(
      db.prisma,
      {
        kind: "openai_compatible",
        name: "upstream",
        baseUrl: "http://127.0.0.1:9/v1",
        apiKey: "sk-upstream",
        deployments: [{ modelName: "chat", upstreamModel: "chat" }],
      },
      SECRET,
    );
    await db.pool.query(
      `INSERT INTO api_keys (id, name, key_hash, prefix, rpm_limit) SELECT gen_random_uuid(), 'key ' || g, md5(g::text) || md5((-g)::text), 'ak-bench', 600 FROM generate_series(1, $1) g`,
      [keyCount],
    );
    const identity = { id: "bench", host: os.hostname(), port: 1, version: "bench", role: "both" as const };
    await registerInstance(db.pool, identity);
    let snapshot = EMPTY_SNAPSHOT;

    console.log(`\n${keyCount} API key(s), ${CALLS} calls each`);
    console.log(
      `${"".padEnd(44)} ${"ms/call".padStart(7)} ${"p99.9 gap".padStart(9)} ${"max gap".padStart(8)} ${">1 ms/call".padStart(10)}`,
    );
    await measure("baseline: SELECT 1", () => db.pool.query("SELECT 1"));
    await measure("safety-net check (readConfigVersion)", () => readConfigVersion(db.pool));
    const sql = await measure("configuration reload (loadSnapshot)", async () => {
      snapshot = await loadSnapshot(db.pool, SECRET, snapshot);
    });
    const prisma = await measure("baseline: the same reads through Prisma", prismaReload(db));
    await measure("heartbeat (with the live-instance count and configuration version)", async () => {
      await heartbeat(db.pool, identity, { rss_bytes: 1, in_flight: 0 }, false);
    });
    console.log(`reload through Prisma ÷ loadSnapshot: ${(prisma / sql).toFixed(1)}× the time per call`);
    await Promise.all([...snapshot.providers.values()].map((p) => p.client.close()));
  } finally {
    await db.close();
    await scratch.drop();
  }
}

for (const keyCount of KEY_COUNTS) await benchKeys(keyCount);
