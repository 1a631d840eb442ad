// The Scaling and Capacity console endpoints, called as Next.js calls them, against PostgreSQL
// (a database of their own): read the policies and decisions, switch the policy with a reason
// (audited, with what changed), save a custom one, edit the capacity tables, simulate.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, setConfig } from "../../lib/platform/config";
import type { ConsoleRouteHandler } from "../../lib/control-plane/console/handler";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { getCapacity, putCapacitySettings, putInstanceSizes, putSchedule } from "../../lib/control-plane/capacity/console";
import {
  activateScalingPolicy,
  getScaling,
  getScalingSimulation,
  saveScalingPolicy,
} from "../../lib/control-plane/scaling/console";
import {
  activatePolicyResponse,
  capacityResponse,
  scalingResponse,
  simulationResponse,
} from "../../lib/control-plane/scaling/contracts";
import { peakStepFor } from "../../lib/control-plane/capacity/overview";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { seedPolicies } from "../../lib/control-plane/scaling/store";
import { createUser } from "../../lib/control-plane/users/users";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { insertRollupRows } from "../helpers/rollup-rows";
import { sessionCookie } from "../helpers/console-session";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
let scratch: ScratchDatabase;
let database: Database;
let adminCookie: string;
let operatorCookie: string;

function call(handler: ConsoleRouteHandler, options: { cookie: string; method?: string; body?: unknown; query?: string }) {
  const request = new Request(`http://127.0.0.1/api/console/x${options.query ?? ""}`, {
    method: options.method ?? "GET",
    headers: { cookie: options.cookie, ...(options.body === undefined ? {} : { "content-type": "application/json" }) },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return handler(request, { params: Promise.resolve({}) });
}

/** One instance's rollup row, and the fleet's: `requests` answered (2xx) in the bucket, CPU at `cpuPercent` of a core. */
function rollup(resolution: 60 | 600, bucket: Date, requests: number, cpuPercent: number) {
  return insertRollupRows(database.pool, [
    { resolution, instanceId: "capacity-test", bucket: bucket.getTime(), requests2xx: requests, cpuPercent },
  ]);
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_scaling_console_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 4 });
  setDatabase(database);
  setConfig(
    parseConfig({
      DATABASE_URL: scratch.url,
      SECRET,
      NODE_ENV: "test",
      INSTANCE_ID: "scaling-console-test",
      SCALING_CPU_REQUEST_MILLICORES: "500",
    }),
  );
  await seedPolicies(database.prisma);
  const admin = await createUser(database.prisma, { email: "admin@scaling.test", role: "admin", password: "admin-password-123" });
  const operator = await createUser(database.prisma, {
    email: "operator@scaling.test",
    role: "operator",
    password: "operator-password-123",
  });
  adminCookie = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
  operatorCookie = await sessionCookie({ id: operator.id, email: operator.email, role: "operator" });
});
afterAll(async () => {
  setDatabase(undefined);
  await database?.close();
  await scratch?.drop();
});

describe("scaling", () => {
  it("shows the active policy, every policy and the active policy's HPA", async () => {
    const response = await call(getScaling, { cookie: operatorCookie, query: "?range=15m" });
    expect(response.status).toBe(200);
    const body = scalingResponse.parse(await response.json());
    expect(body.active?.name).toBe("balanced");
    expect(body.policies.map((p) => p.name)).toEqual(["aggressive", "balanced", "conservative"]);
    expect(body.active?.fields).toContainEqual(["Scale down at", "30% CPU"]);
    expect(body.hpaManifest).toContain("kind: HorizontalPodAutoscaler");
    expect(body.hpaManifest).toContain("averageUtilization: 70");
    expect(body.history.map((s) => s.name)).toEqual(["current", "desired", "recommendation"]);
    // 15 minutes of 10 s steps, and the current step so far (the latest decision's).
    expect(body.history[0]!.points).toHaveLength(Math.ceil((body.end - body.start) / 10_000));
    expect(body.history[0]!.points.length).toBeGreaterThanOrEqual(90);
    expect(body.end - body.start).toBeLessThan(910_000);
  });

  it("draws decisions into the history, step by step", async () => {
    const at = new Date(Date.now() - 120_000);
    await database.pool.query(
      `INSERT INTO scaling_decisions (at, leader_token, policy_name, target, current_replicas, desired_replicas, recommendation, reason, message, metrics, scale_change, outcome)
       VALUES ($1, 1, 'balanced', 'none', 3, 5, 5, 'DesiredWithinRange', '5 because average CPU 84% is above the 70% target', '{}', 0, 'recommended')`,
      [at],
    );
    const body = scalingResponse.parse(await (await call(getScaling, { cookie: operatorCookie, query: "?range=15m" })).json());
    expect(body.latest).toMatchObject({
      currentReplicas: 3,
      desiredReplicas: 5,
      message: "5 because average CPU 84% is above the 70% target",
    });
    const desired = body.history.find((s) => s.name === "desired")!.points.filter((p) => p.v !== null);
    expect(desired).toEqual([{ t: Math.floor(at.getTime() / 10_000) * 10_000, v: 5 }]);
  });

  it("draws the decision the panel shows, made in the current step", async () => {
    await database.pool.query(
      `INSERT INTO scaling_decisions (at, leader_token, policy_name, target, current_replicas, desired_replicas, recommendation, reason, message, metrics, scale_change, outcome)
       VALUES (now(), 1, 'balanced', 'none', 1, 3, 3, 'BelowMin', '3 because 1 is below the policy''s minimum of 3', '{}', 0, 'recommended')`,
    );
    for (const range of ["15m", "1h", "6h", "24h", "7d"]) {
      const body = scalingResponse.parse(
        await (await call(getScaling, { cookie: operatorCookie, query: `?range=${range}` })).json(),
      );
      expect(body.latest?.currentReplicas, range).toBe(1);
      const current = body.history.find((s) => s.name === "current")!.points;
      // The step's largest count: on longer ranges the decision 2 minutes ago may share the last step.
      if (range === "15m") expect(current.at(-1)?.v).toBe(1);
      else expect(current.at(-1)?.v, range).toBeGreaterThanOrEqual(1);
    }
  });

  it("switches the policy for an admin, with a reason, and says what changed", async () => {
    expect(
      (await call(activateScalingPolicy, { cookie: operatorCookie, method: "PUT", body: { name: "aggressive", reason: "x" } }))
        .status,
    ).toBe(403);
    const missingReason = await call(activateScalingPolicy, {
      cookie: adminCookie,
      method: "PUT",
      body: { name: "aggressive", reason: " " },
    });
    expect(missingReason.status).toBe(400);
    expect((await missingReason.json()).error).toMatchObject({ param: "reason", message: "reason: say why the policy changes" });

    const response = await call(activateScalingPolicy, {
      cookie: adminCookie,
      method: "PUT",
      body: { name: "aggressive", reason: "launch week" },
    });
    expect(response.status).toBe(200);
    const body = activatePolicyResponse.parse(await response.json());
    expect(body).toMatchObject({ changed: true, before: "balanced", after: "aggressive" });
    expect(body.differences).toContainEqual({ field: "Instances", before: "3–15", after: "3–20" });
    const audit = await database.prisma.auditEntry.findFirst({
      where: { action: "scaling_policy.activate" },
      orderBy: { id: "desc" },
    });
    expect(audit).toMatchObject({ actorEmail: "admin@scaling.test" });
    expect(audit!.after).toMatchObject({ name: "aggressive", reason: "launch week" });
    const after = scalingResponse.parse(await (await call(getScaling, { cookie: operatorCookie })).json());
    expect(after.active?.name).toBe("aggressive");
    expect(after.changes[0]).toMatchObject({
      policyName: "aggressive",
      from: "balanced",
      reason: "launch week",
      actor: "admin@scaling.test",
    });
    expect(after.hpaManifest).toContain("averageUtilization: 60");
  });

  it("answers 404 for an unknown policy", async () => {
    const response = await call(activateScalingPolicy, {
      cookie: adminCookie,
      method: "PUT",
      body: { name: "nope", reason: "test" },
    });
    expect(response.status).toBe(404);
  });

  it("saves a custom policy, and names the field that is wrong", async () => {
    const bad = await call(saveScalingPolicy, {
      cookie: adminCookie,
      method: "POST",
      body: { name: "nights", spec: { ...PRESETS.balanced, minReplicas: 9, maxReplicas: 2 } },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({
      param: "spec.maxReplicas",
      message: "spec.maxReplicas: maxReplicas (2) must be at least minReplicas (9)",
    });
    const good = await call(saveScalingPolicy, {
      cookie: adminCookie,
      method: "POST",
      body: { name: "nights", spec: { ...PRESETS.balanced, minReplicas: 1 } },
    });
    expect(good.status).toBe(201);
    expect((await good.json()).policy).toMatchObject({ name: "nights", preset: false, active: false });
    const preset = await call(saveScalingPolicy, {
      cookie: adminCookie,
      method: "POST",
      body: { name: "balanced", spec: PRESETS.balanced },
    });
    expect(preset.status).toBe(409);
  });

  it("simulates every policy over the recorded load", async () => {
    const response = await call(getScalingSimulation, { cookie: operatorCookie, query: "?hours=2" });
    expect(response.status).toBe(200);
    const body = simulationResponse.parse(await response.json());
    expect(body.results.map((r) => r.policy)).toEqual(["aggressive", "balanced", "conservative", "nights"]);
    expect(body.minutes).toBe(120);
    expect(body.recordedMinutes).toBe(0);
  });
});

describe("capacity", () => {
  it("recommends from the guide's tables when nothing was measured yet", async () => {
    const response = await call(getCapacity, { cookie: operatorCookie });
    expect(response.status).toBe(200);
    const body = capacityResponse.parse(await response.json());
    expect(body.sizes.map((s) => [s.id, s.cpuCores, s.memoryGb, s.requestsPerSecond, s.monthlyCostUsd])).toEqual([
      ["small", 2, 4, 100, 50],
      ["medium", 4, 8, 250, 100],
      ["large", 8, 16, 500, 200],
    ]);
    expect(body.schedule.map((r) => r.notes)).toEqual([
      "Development",
      "Small production",
      "Medium production",
      "Large production",
    ]);
    expect(body.settings).toMatchObject({ safetyFactor: 1.5, instanceSizeId: "medium" });
    expect(body.recommendation.capacitySource).toBe("nominal");
    expect(body.peak).toBeNull();
  });

  it("uses the measured capacity and the edited tables", async () => {
    expect(
      (
        await call(putCapacitySettings, {
          cookie: operatorCookie,
          method: "PUT",
          body: { safetyFactor: 2, instanceSizeId: "medium", lookbackDays: 7 },
        })
      ).status,
    ).toBe(403);
    const tooLow = await call(putCapacitySettings, {
      cookie: adminCookie,
      method: "PUT",
      body: { safetyFactor: 0.5, instanceSizeId: "medium", lookbackDays: 7 },
    });
    expect(tooLow.status).toBe(400);
    expect((await tooLow.json()).error.param).toBe("safetyFactor");
    expect(
      (
        await call(putCapacitySettings, {
          cookie: adminCookie,
          method: "PUT",
          body: { safetyFactor: 2, instanceSizeId: "medium", lookbackDays: 7 },
        })
      ).status,
    ).toBe(200);
    const sizes = [
      { id: "medium", name: "Medium", cpuCores: 4, memoryGb: 8, requestsPerSecond: 250, monthlyCostUsd: 100 },
      { id: "xl", name: "XL", cpuCores: 16, memoryGb: 32, requestsPerSecond: 1000, monthlyCostUsd: 380 },
    ];
    expect((await call(putInstanceSizes, { cookie: adminCookie, method: "PUT", body: { sizes } })).status).toBe(200);
    const schedule = [{ users: "all", rpsFrom: 0, rpsTo: null, instancesMin: 2, instancesMax: null, notes: "Everything" }];
    expect((await call(putSchedule, { cookie: adminCookie, method: "PUT", body: { schedule } })).status).toBe(200);
    // A stored benchmark: 125 req/s per medium instance, half the nominal figure.
    await database.prisma.capacityBenchmark.create({
      data: { requestsPerSecond: 125, instanceSizeId: "medium", source: "loadtest" },
    });
    const body = capacityResponse.parse(await (await call(getCapacity, { cookie: operatorCookie })).json());
    expect(body.settings.safetyFactor).toBe(2);
    expect(body.sizes.map((s) => s.id)).toEqual(["medium", "xl"]);
    expect(body.recommendation.capacitySource).toBe("benchmark");
    expect(body.recommendation.options.map((o) => [o.size.id, o.requestsPerSecond])).toEqual([
      ["medium", 125],
      ["xl", 500],
    ]);
    expect(body.recommendation.schedule?.notes).toBe("Everything");
    const actions = (await database.prisma.auditEntry.findMany({ where: { action: { startsWith: "capacity." } } }))
      .map((a) => a.action)
      .sort();
    expect(actions).toEqual(["capacity.schedule.update", "capacity.settings.update", "capacity.sizes.update"]);
  });

  it("answers every look-back the form allows (1–90 days), reading long ones at a coarser step", async () => {
    // 30 000 requests in one 10-minute bucket 30 days ago: 50 req/s over those 10 minutes.
    const tenMinutes = 600_000;
    await rollup(600, new Date(Math.floor((Date.now() - 30 * 86_400_000) / tenMinutes) * tenMinutes), 30_000, 20);
    for (const lookbackDays of [1, 7, 8, 31, 90]) {
      const saved = await call(putCapacitySettings, {
        cookie: adminCookie,
        method: "PUT",
        body: { safetyFactor: 2, instanceSizeId: "medium", lookbackDays },
      });
      expect(saved.status, `${lookbackDays} days`).toBe(200);
      const response = await call(getCapacity, { cookie: operatorCookie });
      expect(response.status, `${lookbackDays} days`).toBe(200);
      const body = capacityResponse.parse(await response.json());
      expect(body.settings.lookbackDays).toBe(lookbackDays);
      expect(body.metricsError).toBeNull();
      expect(body.peakStepSeconds).toBe(peakStepFor(lookbackDays * 86_400));
      if (lookbackDays < 30) expect(body.peak).toBeNull();
    }
    // 90 days are read in 20-minute steps: that bucket's 30 000 requests average 25 req/s over its step.
    const body = capacityResponse.parse(await (await call(getCapacity, { cookie: operatorCookie })).json());
    expect(body.peakStepSeconds).toBe(1_200);
    expect(body.peak?.requestsPerSecond).toBe(25);
  });

  it("warns when the plan needs more instances than the active policy's maximum", async () => {
    await call(putCapacitySettings, {
      cookie: adminCookie,
      method: "PUT",
      body: { safetyFactor: 10, instanceSizeId: "medium", lookbackDays: 90 },
    });
    const body = capacityResponse.parse(await (await call(getCapacity, { cookie: operatorCookie })).json());
    // ceil(25 ÷ 125 × 10) = 2 instances: within any preset's maximum.
    expect(body.recommendation.aboveMaximum).toBeNull();
    await call(putInstanceSizes, {
      cookie: adminCookie,
      method: "PUT",
      body: { sizes: [{ id: "medium", name: "Medium", cpuCores: 4, memoryGb: 8, requestsPerSecond: 1, monthlyCostUsd: 100 }] },
    });
    await database.prisma.capacityBenchmark.create({
      data: { requestsPerSecond: 1, instanceSizeId: "medium", source: "loadtest" },
    });
    const over = capacityResponse.parse(await (await call(getCapacity, { cookie: operatorCookie })).json());
    // ceil(25 ÷ 1 × 10) = 250 instances, and the active policy stops at its maximum.
    expect(over.recommendation.current?.instances).toBe(250);
    expect(over.recommendation.aboveMaximum).toEqual({
      policy: over.policy.name,
      maxReplicas: over.policy.maxReplicas,
      instances: 250,
    });
    expect(over.recommendation.summary).toContain(`maximum of ${over.policy.maxReplicas} instances`);
  });

  it("keeps the settings and tables readable when the measurements cannot be read", async () => {
    // Prometheus configured at a loopback port where nothing listens.
    setConfig(
      parseConfig({
        DATABASE_URL: scratch.url,
        SECRET,
        NODE_ENV: "test",
        INSTANCE_ID: "scaling-console-test",
        SCALING_CPU_REQUEST_MILLICORES: "500",
        PROMETHEUS_URL: "http://127.0.0.1:9",
      }),
    );
    try {
      const response = await call(getCapacity, { cookie: operatorCookie });
      expect(response.status).toBe(200);
      const body = capacityResponse.parse(await response.json());
      expect(body.metricsError).toMatch(/^The measurements could not be read: /);
      expect(body.peak).toBeNull();
      expect(body.settings.lookbackDays).toBe(90);
      expect(body.sizes.map((s) => s.id)).toEqual(["medium"]);
    } finally {
      setConfig(
        parseConfig({
          DATABASE_URL: scratch.url,
          SECRET,
          NODE_ENV: "test",
          INSTANCE_ID: "scaling-console-test",
          SCALING_CPU_REQUEST_MILLICORES: "500",
        }),
      );
    }
  });
});

describe("simulator window", () => {
  it("replays a week of recorded load and prices only the minutes it replayed", async () => {
    // 30 recorded minutes a day ago, in 1-minute rollups and the 10-minute ones the leader makes of them.
    const minute = 60_000;
    const start = Math.floor((Date.now() - 86_400_000) / (10 * minute)) * 10 * minute;
    for (let i = 0; i < 30; i++) await rollup(60, new Date(start + i * minute), 600, 30);
    for (let i = 0; i < 3; i++) await rollup(600, new Date(start + i * 10 * minute), 6_000, 30);
    const response = await call(getScalingSimulation, { cookie: operatorCookie, query: "?hours=168" });
    expect(response.status).toBe(200);
    const body = simulationResponse.parse(await response.json());
    expect(body.minutes).toBe(168 * 60);
    // The 1-minute rollups are kept 7 days, so a full week is answered in 10-minute steps.
    expect(body.stepSeconds).toBe(600);
    expect(body.recordedMinutes).toBe(30);
    for (const r of body.results)
      expect(r.costUsd).toBeCloseTo((r.instanceMinutes / (30 * 24 * 60)) * body.instanceMonthlyCostUsd, 1);
    for (const r of body.results) expect(r.instanceMinutes).toBeLessThanOrEqual(r.peakReplicas * body.recordedMinutes);
    const day = simulationResponse.parse(
      await (await call(getScalingSimulation, { cookie: operatorCookie, query: "?hours=48" })).json(),
    );
    expect(day).toMatchObject({ minutes: 48 * 60, stepSeconds: 60, recordedMinutes: 30 });
  });
});
