// Admin actions and the fleet's provider health against a real PostgreSQL database: deleting
// providers and custom policies (409 while in use), resetting another user's password (shown once,
// never audited), keys' last-used times flushed in batches, allowed models nobody serves flagged,
// and deployment health merged from the instances' heartbeat reports.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heartbeat } from "../../lib/platform/coordination/registry";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { reportDeployments } from "../../lib/data-plane/gateway/health-report";
import { Router } from "../../lib/data-plane/gateway/router";
import type { DeploymentEntry } from "../../lib/data-plane/fleet-config/snapshot";
import { KeyUsageRecorder } from "../../lib/data-plane/keys/usage";
import { verifyPassword } from "../../lib/control-plane/auth/passwords";
import type { LiveProvider } from "../../lib/data-plane/providers/factory";
import { UpstreamFailure } from "../../lib/data-plane/providers/types";
import { seedPolicies } from "../../lib/control-plane/scaling/store";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { createUser, findUserForLogin } from "../../lib/control-plane/users/users";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { callConsoleHandler as call, loadConsoleRoutes, type ConsoleRoute } from "../helpers/console-routes";
import { sessionCookie } from "../helpers/console-session";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";

let scratch: ScratchDatabase;
let database: Database;
let adminId: string;
let adminCookie: string;
let operatorCookie: string;
let routes: ConsoleRoute[];

const handler = (method: string, route: string) => {
  const found = routes.find((r) => r.method === method && r.route === route);
  if (!found) throw new Error(`no ${method} ${route}`);
  return found.handler;
};

async function auditOf(action: string, targetId: string) {
  return database.prisma.auditEntry.findMany({ where: { action, targetId } });
}

async function createSimulatorProvider(name: string, models: string[]) {
  const response = await call(handler("POST", "/api/console/providers"), {
    cookie: adminCookie,
    method: "POST",
    body: { kind: "simulator", name, deployments: models.map((m) => ({ modelName: m, upstreamModel: m })) },
  });
  expect(response.status).toBe(201);
  return (await response.json()).provider as { id: string; deployments: Array<{ id: string; modelName: string }> };
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_admin_${Date.now()}_${randomBytes(3).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 4 });
  setDatabase(database);
  setConfig(parseConfig({ DATABASE_URL: scratch.url, SECRET, NODE_ENV: "test", INSTANCE_ID: "admin-test" }));
  const admin = await createUser(database.prisma, { email: "admin@example.test", role: "admin", password: "admin-password-123" });
  const operator = await createUser(database.prisma, {
    email: "operator@example.test",
    role: "operator",
    password: "operator-password-123",
  });
  adminId = admin.id;
  adminCookie = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
  operatorCookie = await sessionCookie({ id: operator.id, email: operator.email, role: "operator" });
  await seedPolicies(database.prisma);
  routes = await loadConsoleRoutes();
});

afterAll(async () => {
  setDatabase(undefined);
  await database?.close();
  await scratch?.drop();
});

describe("deleting a provider", () => {
  it("refuses one that still serves a model with 409 naming it, deletes it once disabled, and audits the deletion", async () => {
    const provider = await createSimulatorProvider("doomed", ["doomed-model"]);
    const refused = await call(handler("DELETE", "/api/console/providers/[id]"), {
      cookie: adminCookie,
      method: "DELETE",
      params: { id: provider.id },
    });
    expect(refused.status).toBe(409);
    expect((await refused.json()).error).toMatchObject({
      code: "provider_in_use",
      message: expect.stringContaining('"doomed-model"'),
    });
    expect(await database.prisma.provider.count({ where: { id: provider.id } })).toBe(1);

    const disabled = await call(handler("PATCH", "/api/console/providers/[id]"), {
      cookie: adminCookie,
      method: "PATCH",
      params: { id: provider.id },
      body: { enabled: false },
    });
    expect(disabled.status).toBe(200);
    const deleted = await call(handler("DELETE", "/api/console/providers/[id]"), {
      cookie: adminCookie,
      method: "DELETE",
      params: { id: provider.id },
    });
    expect(deleted.status).toBe(200);
    expect(await database.prisma.provider.count({ where: { id: provider.id } })).toBe(0);
    expect(await database.prisma.deployment.count({ where: { providerId: provider.id } })).toBe(0);
    const [entry] = await auditOf("provider.delete", provider.id);
    expect(entry).toMatchObject({ actorEmail: "admin@example.test", before: { name: "doomed" } });

    const again = await call(handler("DELETE", "/api/console/providers/[id]"), {
      cookie: adminCookie,
      method: "DELETE",
      params: { id: provider.id },
    });
    expect(again.status).toBe(404);
  });

  it("is an admin action: an operator gets 403 and nothing is deleted", async () => {
    const provider = await createSimulatorProvider("kept", []);
    const response = await call(handler("DELETE", "/api/console/providers/[id]"), {
      cookie: operatorCookie,
      method: "DELETE",
      params: { id: provider.id },
    });
    expect(response.status).toBe(403);
    expect(await database.prisma.provider.count({ where: { id: provider.id } })).toBe(1);
  });

  it("refuses a cross-site delete before anything else", async () => {
    const provider = await createSimulatorProvider("cross-site", []);
    const response = await call(handler("DELETE", "/api/console/providers/[id]"), {
      cookie: adminCookie,
      method: "DELETE",
      params: { id: provider.id },
      headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    expect(response.status).toBe(403);
    expect(await database.prisma.provider.count({ where: { id: provider.id } })).toBe(1);
  });
});

describe("deleting a scaling policy", () => {
  const remove = (id: string, cookie = adminCookie) =>
    call(handler("DELETE", "/api/console/scaling/policies/[id]"), { cookie, method: "DELETE", params: { id } });

  it("refuses presets and the active policy with 409, deletes an inactive custom one and audits it", async () => {
    const saved = await call(handler("POST", "/api/console/scaling/policies"), {
      cookie: adminCookie,
      method: "POST",
      body: { name: "weekend", spec: { ...PRESETS.balanced, minReplicas: 1 } },
    });
    expect(saved.status).toBe(201);
    const custom = (await saved.json()).policy as { id: string };
    const preset = await database.prisma.scalingPolicy.findUniqueOrThrow({ where: { name: "conservative" } });
    const presetAnswer = await remove(preset.id);
    expect(presetAnswer.status).toBe(409);
    expect((await presetAnswer.json()).error.code).toBe("policy_is_preset");

    const activated = await call(handler("PUT", "/api/console/scaling/active"), {
      cookie: adminCookie,
      method: "PUT",
      body: { name: "weekend", reason: "test" },
    });
    expect(activated.status).toBe(200);
    const activeAnswer = await remove(custom.id);
    expect(activeAnswer.status).toBe(409);
    expect((await activeAnswer.json()).error).toMatchObject({
      code: "policy_in_use",
      message: expect.stringContaining("active policy"),
    });

    expect(
      (
        await call(handler("PUT", "/api/console/scaling/active"), {
          cookie: adminCookie,
          method: "PUT",
          body: { name: "balanced", reason: "test" },
        })
      ).status,
    ).toBe(200);
    expect((await remove(custom.id, operatorCookie)).status).toBe(403);
    expect((await remove(custom.id)).status).toBe(200);
    expect(await database.prisma.scalingPolicy.count({ where: { id: custom.id } })).toBe(0);
    const [entry] = await auditOf("scaling_policy.delete", custom.id);
    expect(entry).toMatchObject({ actorEmail: "admin@example.test", before: { name: "weekend" } });
  });
});

describe("resetting a user's password", () => {
  const reset = (id: string, cookie = adminCookie) =>
    call(handler("POST", "/api/console/users/[id]/password"), { cookie, method: "POST", params: { id }, body: {} });

  it("gives a new password once, which then signs in, the old one no longer does, and the audit log never holds it", async () => {
    const user = await createUser(database.prisma, {
      email: "forgetful@example.test",
      role: "operator",
      password: "old-password-1234",
    });
    const response = await reset(user.id);
    expect(response.status).toBe(200);
    const { password, user: dto } = await response.json();
    expect(dto).toMatchObject({ id: user.id, email: "forgetful@example.test" });
    expect(dto).not.toHaveProperty("passwordHash");
    expect(password).toMatch(/^[\w-]{20,}$/);
    const stored = await findUserForLogin(database.prisma, "forgetful@example.test");
    expect(await verifyPassword(stored!.passwordHash, password)).toBe(true);
    expect(await verifyPassword(stored!.passwordHash, "old-password-1234")).toBe(false);

    const entries = await auditOf("user.password_reset", user.id);
    expect(entries).toHaveLength(1);
    const auditText = JSON.stringify(entries.map(({ before, after }) => ({ before, after })));
    expect(auditText).toContain("forgetful@example.test");
    expect(auditText).not.toContain(password);
    expect(auditText).not.toContain(stored!.passwordHash);
  });

  it("ends the sessions the user signed in with before the reset, and lets a new sign-in in", async () => {
    const user = await createUser(database.prisma, {
      email: "signed-in@example.test",
      role: "admin",
      password: "signed-in-pass-12",
    });
    const earlier = await sessionCookie({ id: user.id, email: user.email, role: "admin" }, Math.floor(Date.now() / 1000) - 60);
    const list = (cookie: string) => call(handler("GET", "/api/console/users"), { cookie });
    expect((await list(earlier)).status).toBe(200);
    expect((await reset(user.id)).status).toBe(200);
    expect((await list(earlier)).status).toBe(401);
    const later = await sessionCookie({ id: user.id, email: user.email, role: "admin" }, Math.floor(Date.now() / 1000) + 1);
    expect((await list(later)).status).toBe(200);
  });

  it("refuses an admin's own account with 409, an operator with 403, and an unknown user with 404", async () => {
    const own = await reset(adminId);
    expect(own.status).toBe(409);
    expect((await own.json()).error.code).toBe("own_password");
    const other = await createUser(database.prisma, {
      email: "bystander@example.test",
      role: "operator",
      password: "bystander-pass-12",
    });
    expect((await reset(other.id, operatorCookie)).status).toBe(403);
    expect((await reset("00000000-0000-4000-8000-000000000000")).status).toBe(404);
  });
});

describe("API keys' last use and allowed models", () => {
  it("shows when a key was last used, written by one batched flush, never moving backwards", async () => {
    await createSimulatorProvider("keys-sim", ["served-model"]);
    const created = await call(handler("POST", "/api/console/keys"), {
      cookie: adminCookie,
      method: "POST",
      body: { name: "used", allowedModels: ["served-model", "gpt-4-typo"] },
    });
    expect(created.status).toBe(201);
    const { record } = await created.json();
    expect(record).toMatchObject({ lastUsedAt: null, unknownModels: ["gpt-4-typo"] });
    const idle = (
      await (
        await call(handler("POST", "/api/console/keys"), { cookie: adminCookie, method: "POST", body: { name: "idle" } })
      ).json()
    ).record;

    let clock = Date.parse("2026-12-04T10:00:00.000Z");
    const recorder = new KeyUsageRecorder(() => clock);
    for (let i = 0; i < 50; i++) recorder.touch(record.id);
    expect(recorder.pendingCount).toBe(1);
    const queries: unknown[] = [];
    const counting = { query: (text: string, values: unknown[]) => (queries.push(text), database.pool.query(text, values)) };
    expect(await recorder.flush(counting as never)).toBe(1);
    expect(queries).toHaveLength(1);
    expect(await recorder.flush(counting as never)).toBe(0);
    expect(queries).toHaveLength(1);

    // Another instance's older time arriving late does not move it back.
    const late = new KeyUsageRecorder(() => clock - 60_000);
    late.touch(record.id);
    await late.flush(database.pool);

    const list = (await (await call(handler("GET", "/api/console/keys"), { cookie: operatorCookie })).json()).keys as Array<{
      id: string;
      lastUsedAt: string | null;
      unknownModels: string[];
    }>;
    expect(list.find((k) => k.id === record.id)).toMatchObject({
      lastUsedAt: "2026-12-04T10:00:00.000Z",
      unknownModels: ["gpt-4-typo"],
    });
    expect(list.find((k) => k.id === idle.id)).toMatchObject({ lastUsedAt: null, unknownModels: [] });
    clock += 1_000;
  });

  it("keeps the times of a failed flush for the next one", async () => {
    const { record } = await (
      await call(handler("POST", "/api/console/keys"), { cookie: adminCookie, method: "POST", body: { name: "retry" } })
    ).json();
    const recorder = new KeyUsageRecorder(() => Date.parse("2026-12-04T11:00:00.000Z"));
    recorder.touch(record.id);
    await expect(recorder.flush({ query: async () => Promise.reject(new Error("database away")) } as never)).rejects.toThrow(
      "database away",
    );
    expect(recorder.pendingCount).toBe(1);
    expect(await recorder.flush(database.pool)).toBe(1);
    const row = await database.prisma.apiKeyUsage.findUniqueOrThrow({ where: { keyId: record.id } });
    expect(row.lastUsedAt.toISOString()).toBe("2026-12-04T11:00:00.000Z");
  });
});

describe("provider health across the fleet", () => {
  function entryFor(deployment: { id: string; modelName: string }): DeploymentEntry {
    const provider = { id: "p", name: "health-sim", kind: "simulator", version: "1" } as unknown as LiveProvider;
    return {
      id: deployment.id,
      modelName: deployment.modelName,
      upstreamModel: deployment.modelName,
      weight: 1,
      provider,
      label: `health-sim/${deployment.modelName}`,
    };
  }

  it("merges every live instance's heartbeat report: failures, error rate, requests refused by an open circuit, the newest failure, the worst circuit", async () => {
    const provider = await createSimulatorProvider("health-sim", ["flaky", "steady"]);
    const flaky = entryFor(provider.deployments.find((d) => d.modelName === "flaky")!);
    const steady = entryFor(provider.deployments.find((d) => d.modelName === "steady")!);
    let clock = 0;
    const options = {
      maxAttempts: 1,
      failureThreshold: 3,
      cooldownMs: 30_000,
      backoffBaseMs: 0,
      backoffMaxMs: 0,
      now: () => clock,
    };
    // Instance a: flaky fails three times (circuit opens), then 35 requests are refused by it.
    const a = new Router({ ...options, wallClock: () => Date.parse("2026-12-04T12:00:00.000Z") });
    for (let i = 0; i < 3; i++)
      await a
        .run([flaky], async () => Promise.reject(new UpstreamFailure("server_error", "boom: secret upstream text", 503)))
        .catch(() => undefined);
    for (let i = 0; i < 35; i++) await a.run([flaky], async () => "never").catch(() => undefined);
    await a.run([steady], async () => ((clock += 5), "ok"));
    // Instance b: flaky answers once, then fails once later (its newer failure is the last one).
    const b = new Router({ ...options, wallClock: () => Date.parse("2026-12-04T12:05:00.000Z") });
    await b.run([flaky], async () => "ok");
    await b
      .run([flaky], async () => Promise.reject(new UpstreamFailure("auth_rejected", "401 from upstream", 401)))
      .catch(() => undefined);
    // Instance c is dead: its report must not count.
    const c = new Router(options);
    for (let i = 0; i < 5; i++) await c.run([flaky], async () => "ok");

    const identity = (id: string) => ({ id, host: "h", port: 1, version: "v", role: "both" as const });
    await heartbeat(database.pool, identity("a"), { deployments: reportDeployments(a) }, false);
    await heartbeat(database.pool, identity("b"), { deployments: reportDeployments(b) }, true);
    await heartbeat(database.pool, identity("c"), { deployments: reportDeployments(c) }, false);
    await database.pool.query(`UPDATE instances SET status = 'dead' WHERE id = 'c'`);
    // An older version's heartbeat has no report, or one in another shape: ignored, not an error.
    await heartbeat(database.pool, identity("old"), { deployments: { [flaky.id]: { circuit: "weird" } } }, false);

    const response = await call(handler("GET", "/api/console/providers/health"), { cookie: operatorCookie });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.instances).toEqual(["a", "b", "old"]);
    const byModel = new Map((body.deployments as Array<{ modelName: string }>).map((d) => [d.modelName, d]));
    expect(byModel.get("flaky")).toMatchObject({
      circuit: "open",
      openOn: 1,
      attempts: 5,
      failures: 4,
      errorRate: 0.8,
      refusedByCircuit: 35,
      lastFailure: { reason: "auth_rejected", status: 401, at: "2026-12-04T12:05:00.000Z", instanceId: "b" },
      enabled: true,
    });
    expect(byModel.get("steady")).toMatchObject({
      circuit: "closed",
      openOn: 0,
      attempts: 1,
      failures: 0,
      errorRate: 0,
      refusedByCircuit: 0,
      lastFailure: null,
      meanLatencyMs: 5,
    });
    expect(JSON.stringify(body)).not.toContain("secret upstream text");
  });
});
