// The leader's scaling decision against PostgreSQL (a database of its own): instance vitals from
// the registry, the active policy, a decision written under the leadership's fencing token, the
// controller's memory carried across leaders, and the `local` target driven through the local
// cluster runner's real control endpoint (in front of a stand-in cluster object).
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { acquireLease, type Fence } from "../../lib/platform/coordination/lease";
import { startControlServer, type ControlServer } from "../../tools/cluster-runner/control";
import type { InstanceInfo, LocalCluster } from "../../tools/cluster-runner/index";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { readQueueStats } from "../../lib/data-plane/batch/queue-stats";
import { ScalingDecider } from "../../lib/control-plane/scaling/decider";
import { PRESETS, type PolicySpec } from "../../lib/control-plane/scaling/policies";
import { activatePolicy, savePolicy, seedPolicies, SYSTEM_ACTOR } from "../../lib/control-plane/scaling/store";
import { localRunnerClient, localTarget } from "../../lib/control-plane/scaling/targets/local";
import { noTarget } from "../../lib/control-plane/scaling/targets/none";
import type { ScalingTarget } from "../../lib/control-plane/scaling/targets/types";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const logger = pino({ level: "silent" });
let scratch: ScratchDatabase;
let db: Database;
const signal = new AbortController().signal;

/** Balanced thresholds, no waiting: each decision shows the algorithm's answer at once. */
const immediate: PolicySpec = {
  ...PRESETS.balanced,
  minReplicas: 1,
  maxReplicas: 10,
  behavior: {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 10, periodSeconds: 15 }] },
    scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 10, periodSeconds: 15 }] },
  },
};

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_scaling_decider_${randomBytes(4).toString("hex")}`, { migrate: true });
  db = createDatabase({ url: scratch.url, poolMax: 4 });
  await seedPolicies(db.prisma);
  await savePolicy(db.prisma, { name: "immediate", spec: immediate }, SYSTEM_ACTOR);
  await savePolicy(
    db.prisma,
    {
      name: "held",
      spec: {
        ...immediate,
        behavior: { ...immediate.behavior, scaleDown: { ...immediate.behavior.scaleDown, stabilizationWindowSeconds: 300 } },
      },
    },
    SYSTEM_ACTOR,
  );
});
afterAll(async () => {
  await db?.close();
  await scratch?.drop();
});
beforeEach(async () => {
  await db.pool.query("DELETE FROM instances");
  await db.pool.query("DELETE FROM scaling_decisions");
});

/** Registry rows as heartbeats leave them: vitals with CPU as a share of one core. */
async function instances(cpuPercents: number[], prefix = "i", status = "healthy"): Promise<string[]> {
  const ids = cpuPercents.map((_, n) => `${prefix}-${n + 1}`);
  for (const [n, cpu] of cpuPercents.entries()) {
    await db.pool.query(
      `INSERT INTO instances (id, host, port, version, status, vitals) VALUES ($1, 'h', 1, 'v', $2::"InstanceStatus", $3::jsonb)`,
      [ids[n], status, JSON.stringify({ cpu_percent: cpu, rss_bytes: 100_000_000 })],
    );
  }
  return ids;
}

async function leadership(holder: string): Promise<Fence> {
  await db.pool.query(`UPDATE leases SET expires_at = now() - interval '1 second' WHERE name = 'leader'`);
  const lease = await acquireLease(db.pool, "leader", { holder, ttlMs: 600_000 });
  if (!lease) throw new Error("no lease");
  return { name: "leader", holder, token: lease.token };
}

function decider(target: ScalingTarget, now?: () => number) {
  // A CPU request of half a core: 42% of one core is 84% utilisation, as the HPA would see it.
  return new ScalingDecider({
    prisma: db.prisma,
    pool: db.pool,
    target,
    logger,
    staleAfterMs: 15_000,
    cpuRequestMillicores: 500,
    memoryRequestBytes: 1e9,
    now,
  });
}

describe("the decision", () => {
  it("samples the registry, decides as the HPA would, and writes the decision under the leader's token", async () => {
    await activatePolicy(db.prisma, "immediate", SYSTEM_ACTOR, null);
    await instances([42, 42, 42, 42]);
    await instances([90], "draining", "draining");
    const fence = await leadership("leader-a");
    const record = await decider(noTarget()).run(fence, signal);
    expect(record).toMatchObject({
      policyName: "immediate",
      target: "none",
      currentReplicas: 4,
      desiredReplicas: 5,
      recommendation: 5,
      reason: "DesiredWithinRange",
      message: "5 because average CPU 84% is above the 70% target",
      outcome: "recommended",
      scaleChange: 0,
    });
    expect(record!.metrics.instances.map((i) => i.id)).toEqual(["i-1", "i-2", "i-3", "i-4"]);
    const { rows } = await db.pool.query(`SELECT leader_token::text AS token, desired_replicas, message FROM scaling_decisions`);
    expect(rows).toEqual([
      { token: String(fence.token), desired_replicas: 5, message: "5 because average CPU 84% is above the 70% target" },
    ]);
  });

  it("writes nothing once deposed", async () => {
    await activatePolicy(db.prisma, "immediate", SYSTEM_ACTOR, null);
    await instances([42, 42]);
    const old = await leadership("leader-a");
    const mine = decider(noTarget());
    expect(await mine.run(old, signal)).not.toBeNull();
    await leadership("leader-b");
    expect(await mine.run(old, signal)).toBeNull();
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM scaling_decisions`)).rows[0].n).toBe(1);
  });

  it("carries the scale-down window over to the next leader", async () => {
    await activatePolicy(db.prisma, "held", SYSTEM_ACTOR, null);
    const ids = await instances([35, 35, 35, 35]);
    let clock = Date.now();
    const first = await decider(noTarget(), () => clock).run(await leadership("leader-a"), signal);
    expect(first).toMatchObject({ desiredReplicas: 4, recommendation: 4 });
    await db.pool.query(`UPDATE instances SET vitals = '{"cpu_percent": 5}'::jsonb WHERE id = ANY($1)`, [ids]);
    clock += 60_000;
    const next = await decider(noTarget(), () => clock).run(await leadership("leader-b"), signal);
    expect(next).toMatchObject({ desiredReplicas: 4, recommendation: 1, reason: "ScaleDownStabilized" });
    // A leader with no memory would have scaled down at once.
    await db.pool.query("DELETE FROM scaling_decisions");
    const forgetful = await decider(noTarget(), () => clock).run(await leadership("leader-c"), signal);
    expect(forgetful).toMatchObject({ desiredReplicas: 1 });
  });
});

describe("the local target, through the cluster runner's control endpoint", () => {
  let control: ControlServer;
  let members: InstanceInfo[] = [];
  const scaleCalls: number[] = [];
  let finishScale: (() => void) | undefined;
  let refusal: string | undefined;

  // Stands in for LocalCluster behind the real control server: scaling adds "starting" members at
  // once and settles only when the test says so, like instances that take a while to be ready.
  const cluster = {
    url: "http://127.0.0.1:1",
    instances: () => members,
    scaleTo: (replicas: number) => {
      scaleCalls.push(replicas);
      if (refusal) return Promise.reject(new Error(refusal));
      const running = members.filter((m) => m.state !== "exited" && m.state !== "draining");
      for (let n = running.length; n < replicas; n++) members.push(member(`local-${members.length + 1}`, "starting"));
      for (const victim of running.slice(replicas)) victim.state = "draining";
      return new Promise<InstanceInfo[]>((resolve) => (finishScale = () => resolve(members)));
    },
  } as unknown as LocalCluster;
  const member = (id: string, state: InstanceInfo["state"]): InstanceInfo => ({
    id,
    pid: 1,
    port: 1,
    url: "http://127.0.0.1:1",
    state,
    startedAt: new Date(),
  });

  beforeAll(async () => {
    control = await startControlServer(cluster);
  });
  afterAll(async () => {
    finishScale?.();
    await control?.close();
  });

  it("asks the runner for the desired count, reports it under way, and waits for it before asking again", async () => {
    await activatePolicy(db.prisma, "immediate", SYSTEM_ACTOR, null);
    const ids = await instances([42, 42]);
    members = ids.map((id) => member(id, "ready"));
    const target = localTarget(localRunnerClient(control.url), { acceptWaitMs: 300 });
    const mine = decider(target);
    const fence = await leadership("leader-a");

    const first = await mine.run(fence, signal);
    expect(first).toMatchObject({ currentReplicas: 2, desiredReplicas: 3, outcome: "applied", scaleChange: 1 });
    expect(first!.detail).toBe("scaling to 3: under way");
    expect(scaleCalls).toEqual([3]);

    // The new instance is starting (not ready, no metrics): the fleet counts 3, as spec.replicas would.
    const second = await mine.run(fence, signal);
    expect(second).toMatchObject({ currentReplicas: 3 });
    expect(second!.metrics.instances.find((i) => i.id === "local-3")).toMatchObject({ ready: false, cpu: null });
    expect(scaleCalls).toEqual([3]);

    finishScale!();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Load gone: scale down to the minimum, and the runner drains the newest.
    await db.pool.query(`UPDATE instances SET vitals = '{"cpu_percent": 1}'::jsonb`);
    members.find((m) => m.id === "local-3")!.state = "ready";
    await db.pool.query(
      `INSERT INTO instances (id, host, port, version, status, vitals) VALUES ('local-3', 'h', 1, 'v', 'healthy', '{"cpu_percent": 1}'::jsonb)`,
    );
    const third = await mine.run(fence, signal);
    expect(third).toMatchObject({ desiredReplicas: 1, outcome: "applied", scaleChange: -2 });
    expect(scaleCalls).toEqual([3, 1]);
    expect(members.filter((m) => m.state === "draining").map((m) => m.id)).toEqual([ids[1], "local-3"]);
  });

  it("reports a refusal from the runner as a failed decision, and remembers no scale event", async () => {
    await activatePolicy(db.prisma, "immediate", SYSTEM_ACTOR, null);
    const ids = await instances([42, 42]);
    members = ids.map((id) => member(id, "ready"));
    refusal = "PgBouncer is not running";
    try {
      const record = await decider(localTarget(localRunnerClient(control.url), { acceptWaitMs: 2_000 })).run(
        await leadership("leader-a"),
        signal,
      );
      expect(record).toMatchObject({
        desiredReplicas: 3,
        outcome: "failed",
        scaleChange: 0,
        detail: "local cluster runner: PgBouncer is not running",
      });
    } finally {
      refusal = undefined;
    }
  });

  it("decides nothing while the runner cannot be reached", async () => {
    await activatePolicy(db.prisma, "immediate", SYSTEM_ACTOR, null);
    await instances([42, 42]);
    const target = localTarget(localRunnerClient(`${control.url}-wrong-token`), { acceptWaitMs: 300 });
    expect(await decider(target).run(await leadership("leader-a"), signal)).toBeNull();
  });

  it("closes at once while a leader keeps polling on a connection that was busy at the close", async () => {
    const closing = await startControlServer(cluster);
    const client = localRunnerClient(closing.url);
    members = [member("i-1", "ready")];
    const busy = client.scaleTo(2, signal).catch(() => "cut");
    await new Promise((resolve) => setTimeout(resolve, 100));
    let polling = true;
    const poller = (async () => {
      for (let n = 0; n < 100 && polling; n++) {
        await client.status(signal).catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const began = Date.now();
    const closed = closing.close().then(() => Date.now() - began);
    finishScale!();
    const closedAfterMs = await Promise.race([
      closed,
      new Promise<string>((resolve) => setTimeout(() => resolve("still open after 3 s"), 3_000)),
    ]);
    polling = false;
    await Promise.all([poller, busy]);
    expect(closedAfterMs).toBeLessThan(1_000);
  });
});

describe("queue depth", () => {
  const queued: PolicySpec = { ...immediate, queueDepthTarget: 1_000 };

  /** A batch with `count` queued jobs (input lines), as the Batch API leaves them before any worker claims one. */
  async function queueJobs(count: number): Promise<void> {
    const key = await createApiKey(db.prisma, { name: `queue-${randomBytes(3).toString("hex")}` });
    const batchId = `batch_${randomBytes(6).toString("hex")}`;
    await db.pool.query(
      `INSERT INTO batches (id, key_id, endpoint, input_file_id, completion_window, status, total_count, expires_at)
       VALUES ($1, $2::uuid, '/v1/chat/completions', 'file-x', '24h', 'in_progress', $3, now() + interval '1 day')`,
      [batchId, key.record.id, count],
    );
    await db.pool.query(
      `INSERT INTO batch_jobs (batch_id, line_no, custom_id, body) SELECT $1, n, 'req-' || n, '{}'::jsonb FROM generate_series(1, $2::int) AS n`,
      [batchId, count],
    );
  }

  beforeEach(async () => {
    await db.pool.query("DELETE FROM batches");
  });

  it("scales out on the queued jobs in PostgreSQL, ceil(queued ÷ target), while CPU asks for nothing, and keeps the queue with the decision", async () => {
    await savePolicy(db.prisma, { name: "queued", spec: queued }, SYSTEM_ACTOR);
    await activatePolicy(db.prisma, "queued", SYSTEM_ACTOR, null);
    await instances([5]);
    await queueJobs(6_500);
    const fence = await leadership("leader-q");
    const scaling = new ScalingDecider({
      prisma: db.prisma,
      pool: db.pool,
      target: noTarget(),
      logger,
      staleAfterMs: 15_000,
      cpuRequestMillicores: 500,
      memoryRequestBytes: 1e9,
      readQueue: () => readQueueStats(db.pool),
    });
    const record = await scaling.run(fence, signal);
    expect(record).toMatchObject({
      currentReplicas: 1,
      desiredReplicas: 7,
      reason: "DesiredWithinRange",
      message: "7 because queued batch jobs 6,500 (6,500/instance) is above the 1,000/instance target",
    });
    expect(record!.metrics.queue).toMatchObject({ queued: 6_500, running: 0 });
    expect(record!.metrics.proposals.map((p) => [p.metric, p.replicas])).toEqual([
      ["cpu", 1],
      ["batch_queue_depth", 7],
    ]);

    // Drained (the jobs finished): the count falls back to what CPU asks for.
    await db.pool.query(`UPDATE batch_jobs SET status = 'succeeded', finished_at = now()`);
    await db.pool.query("DELETE FROM instances");
    await instances([5, 5, 5, 5, 5, 5, 5]);
    expect(await scaling.run(fence, signal)).toMatchObject({ currentReplicas: 7, desiredReplicas: 1 });
  });

  it("treats an unreadable queue as a metric without data: no scale-down on CPU alone", async () => {
    await savePolicy(db.prisma, { name: "queued", spec: queued }, SYSTEM_ACTOR);
    await activatePolicy(db.prisma, "queued", SYSTEM_ACTOR, null);
    await instances([5, 5, 5]);
    const fence = await leadership("leader-q");
    const scaling = new ScalingDecider({
      prisma: db.prisma,
      pool: db.pool,
      target: noTarget(),
      logger,
      staleAfterMs: 15_000,
      cpuRequestMillicores: 500,
      memoryRequestBytes: 1e9,
      readQueue: () => Promise.reject(new Error("relation does not exist")),
    });
    const record = await scaling.run(fence, signal);
    expect(record).toMatchObject({ currentReplicas: 3, desiredReplicas: 3, reason: "MetricsIncomplete" });
    expect(record!.message).toBe(
      "3: queued batch jobs has no data, and the HPA never scales down on the other metrics alone (they ask for 1)",
    );
    expect(record!.metrics.queue).toBeNull();
  });
});
