// Database outage under steady load: three instances on a PostgreSQL cluster of the test's own,
// which is stopped (fast shutdown: every session cut) for 20 s and started again. Keys,
// providers and the policy are in each instance's memory, so completions keep succeeding (rate
// limits fall back to a local share); /health reports the database as degraded while readiness
// stays up (a shared dependency's outage must not pull every instance out of rotation; the
// configuration is far younger than CONFIG_MAX_STALENESS_MS); nothing exits. After the database
// returns, everything recovers without a restart: health, heartbeats, a leader, and
// configuration changes reaching every instance.
//
// What is lost while the database is away: heartbeats are state, not history — the registry's
// last_seen_at simply stands still until the next one lands (none is replayed). Metric snapshots
// are buffered by the snapshot writer up to SNAPSHOT_BUFFER_MAX and written after; this test
// reads that writer's own counters when the instances expose them.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { TestCluster, eventually, figure, httpGet, sleep, unique } from "../helpers/cluster-fixture";
import { LoadGenerator, summarize } from "../helpers/load";
import { ThrowawayPostgres } from "../helpers/postgres-cluster";

const RATE = 20;
const OUTAGE_MS = 20_000;
const RECOVERY_LIMIT_MS = 10_000;
let postgres: ThrowawayPostgres;
let fixture: TestCluster;

beforeAll(async () => {
  postgres = await ThrowawayPostgres.create();
  fixture = await TestCluster.start({ databaseUrl: postgres.url("agenticorp_outage") });
  await fixture.addWorkload();
});
afterAll(async () => {
  await fixture?.close();
  await postgres?.destroy();
});

async function readiness(url: string): Promise<{ status: number; reasons: string[] }> {
  const { status, body } = await httpGet(`${url}/health/ready`);
  return { status, reasons: (JSON.parse(body) as { reasons: string[] }).reasons };
}

async function health(url: string): Promise<{ status: string; database: string }> {
  const body = JSON.parse((await httpGet(`${url}/health`)).body) as {
    status: string;
    dependencies: { database: { status: string } };
  };
  return { status: body.status, database: body.dependencies.database.status };
}

async function metricValue(url: string, name: string): Promise<number | undefined> {
  const { body } = await httpGet(`${url}/metrics`);
  const line = body.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(" ").at(-1));
}

it("keeps serving through a 20 s outage and recovers within 10 s with no instance restarted", async () => {
  const before = fixture.running().map((i) => ({ id: i.id, pid: i.pid, url: i.url! }));
  expect(before).toHaveLength(3);
  await eventually(async () => {
    const lease = await fixture.leaderLease();
    return !!lease?.active && fixture.ownInstance(lease.holder) !== undefined;
  }, 15_000);

  const load = new LoadGenerator({ baseUrl: fixture.url, keys: fixture.keys, model: fixture.model, ratePerSecond: RATE }).start();
  await sleep(3_000);

  const stoppedAt = Date.now();
  await postgres.stop();
  figure("database outage", "pg_ctl stop -m fast took", Date.now() - stoppedAt, "ms");

  // /health reports the database on every instance, while readiness and liveness stay up.
  const degradedAfterMs = await eventually(async () => {
    const states = await Promise.all(before.map((i) => health(i.url)));
    return states.every((s) => s.status === "degraded" && s.database === "down");
  }, 5_000);
  figure("database outage", "time until every /health says degraded (database down)", degradedAfterMs, "ms");
  for (const instance of before) {
    expect(await readiness(instance.url)).toEqual({ status: 200, reasons: [] });
    expect((await httpGet(`${instance.url}/health/live`)).status).toBe(200);
  }

  // Still down halfway through: /health keeps saying so, readiness stays up.
  await sleep(OUTAGE_MS / 2 - (Date.now() - stoppedAt));
  for (const instance of before) {
    expect((await health(instance.url)).status).toBe("degraded");
    expect((await readiness(instance.url)).status).toBe(200);
  }
  await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
  const duringOutage = load.report();

  await postgres.start();
  const restartedAt = Date.now();
  figure("database outage", "database down for", restartedAt - stoppedAt, "ms");
  const { rows } = await fixture.direct.pool.query<{ now: Date }>("SELECT now()");
  const databaseBack = rows[0]!.now;

  // Recovery: each condition timed from the moment PostgreSQL accepts connections again.
  const recovered: Record<string, number> = {};
  const since = () => Date.now() - restartedAt;
  const freshKey = (await createApiKey(fixture.direct.prisma, { name: unique("after-outage") })).key;
  const configPropagatedAt = fixture
    .waitUntilEveryInstanceServes([freshKey], RECOVERY_LIMIT_MS)
    .then(() => (recovered.configuration = since()));
  await Promise.all([
    eventually(
      async () => (await Promise.all(before.map((i) => health(i.url)))).every((s) => s.status === "healthy"),
      RECOVERY_LIMIT_MS,
    ).then(() => (recovered.health = since())),
    eventually(async () => {
      const registry = await fixture.registry();
      return before.every((i) => {
        const row = registry.get(i.id);
        return row?.status === "healthy" && row.lastSeenAt > databaseBack;
      });
    }, RECOVERY_LIMIT_MS).then(() => (recovered.heartbeats = since())),
    eventually(async () => {
      const lease = await fixture.leaderLease();
      return !!lease?.active && fixture.ownInstance(lease.holder) !== undefined;
    }, RECOVERY_LIMIT_MS).then(() => (recovered.leader = since())),
    configPropagatedAt,
  ]);
  const recoveryMs = Math.max(...Object.values(recovered));
  for (const [what, ms] of Object.entries(recovered)) figure("database outage", `recovered: ${what}`, ms, "ms");
  figure("database outage", "recovery (all of the above)", recoveryMs, "ms");

  await sleep(2_000);
  const report = await load.stop();
  console.log(summarize(report));
  const servedDuringOutage = report.records.filter((r) => r.startedAt > stoppedAt && r.startedAt < restartedAt);
  figure("database outage", "completions during the outage", servedDuringOutage.length);
  figure("database outage", "failed requests", report.failed);
  figure("database outage", "truncated streams", report.truncated);

  expect(report.failures, "requests that did not end well").toEqual([]);
  expect(report.failed).toBe(0);
  expect(report.truncated).toBe(0);
  expect(servedDuringOutage.length).toBeGreaterThanOrEqual(RATE * (OUTAGE_MS / 1000) - 5);
  expect(servedDuringOutage.every((r) => r.outcome === "ok")).toBe(true);
  expect(duringOutage.failed + duringOutage.truncated).toBe(0);
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_LIMIT_MS);

  // Nothing restarted: same processes, none exited, none marked dead at any point.
  const after = fixture.cluster.instances();
  expect(after.map((i) => ({ id: i.id, pid: i.pid, exited: i.exit ?? null }))).toEqual(
    before.map((i) => ({ id: i.id, pid: i.pid, exited: null })),
  );
  const reaped = fixture
    .linesOf("instances stopped heartbeating: marked dead")
    .filter((l) => (l.line.instances as string[]).some((id) => id.startsWith(`${fixture.idPrefix}-`)));
  expect(reaped.map((l) => l.line.instances)).toEqual([]);
  const heartbeatFailures = fixture.linesOf("heartbeat failed").length;
  figure("database outage", "heartbeats that failed (not replayed)", heartbeatFailures);
  expect(heartbeatFailures).toBeGreaterThan(0);

  // Metric snapshots: buffered while the database was away, written after, none dropped.
  const dropped = await metricValue(before[0]!.url, "agenticorp_metric_snapshots_dropped_total");
  if (dropped === undefined) {
    console.log("[note] the instances expose no metric snapshot writer counters yet: snapshot buffering not checked");
  } else {
    for (const instance of before) {
      expect(await metricValue(instance.url, "agenticorp_metric_snapshots_dropped_total"), instance.id).toBe(0);
      await eventually(async () => (await metricValue(instance.url, "agenticorp_metric_snapshots_buffered")) === 0, 20_000);
    }
    figure("database outage", "metric snapshots dropped", 0);
  }
});
