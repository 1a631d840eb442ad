// The in-memory fleet configuration read from PostgreSQL: what one load holds, and the periodic
// safety net, which reads the configuration version and reloads only when it moved.
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { FleetConfig } from "../../lib/data-plane/fleet-config/config-sync";
import { EMPTY_SNAPSHOT, loadSnapshot } from "../../lib/data-plane/fleet-config/snapshot";
import { createApiKey, revokeApiKey } from "../../lib/control-plane/keys/api-keys";
import { hashApiKey } from "../../lib/data-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { eventually } from "../helpers/gateway-fixture";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startTcpProxy } from "../helpers/tcp-proxy";

const SECRET = "fleet-config-secret-0123456789abcdef";
let scratch: ScratchDatabase;
let db: Database;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_fleet_config_${randomBytes(4).toString("hex")}`, { migrate: true });
  db = createDatabase({ url: scratch.url, poolMax: 2 });
});
afterAll(async () => {
  await db?.close();
  await scratch?.drop();
});

describe("loadSnapshot", () => {
  it("holds live keys, enabled providers with their enabled deployments, and the active policy", async () => {
    const upstream = await createProvider(
      db.prisma,
      {
        kind: "openai_compatible",
        name: "upstream",
        baseUrl: "http://127.0.0.1:9/v1",
        apiKey: "sk-upstream",
        deployments: [
          { modelName: "chat", upstreamModel: "up-chat", weight: 3 },
          { modelName: "mini", upstreamModel: "up-mini" },
        ],
      },
      SECRET,
    );
    await createProvider(
      db.prisma,
      { kind: "simulator", name: "sim", deployments: [{ modelName: "chat", upstreamModel: "sim-chat" }] },
      SECRET,
    );
    const switchedOff = await createProvider(
      db.prisma,
      { kind: "simulator", name: "off", deployments: [{ modelName: "off-model", upstreamModel: "x" }] },
      SECRET,
    );
    await db.prisma.provider.update({ where: { id: switchedOff.id }, data: { enabled: false } });
    await db.prisma.deployment.updateMany({ where: { upstreamModel: "up-mini" }, data: { enabled: false } });
    const kept = await createApiKey(db.prisma, { name: "kept", rpmLimit: 60, allowedModels: ["chat"] });
    const revoked = await createApiKey(db.prisma, { name: "revoked" });
    await revokeApiKey(db.prisma, revoked.record.id);
    await db.prisma.scalingPolicy.create({ data: { name: "only", spec: { minReplicas: 2 }, active: true } });

    const snapshot = await loadSnapshot(db.pool, SECRET, EMPTY_SNAPSHOT);

    expect([...snapshot.keysByHash.values()]).toEqual([
      {
        id: kept.record.id,
        name: "kept",
        rpmLimit: 60,
        tpmLimit: null,
        budgetDailyUsd: null,
        budgetMonthlyUsd: null,
        allowedModels: new Set(["chat"]),
        captureBodies: false,
      },
    ]);
    expect(snapshot.keysByHash.has(hashApiKey(kept.key))).toBe(true);
    expect([...snapshot.providers.values()].map((p) => p.name).sort()).toEqual(["sim", "upstream"]);
    expect(snapshot.providers.get(upstream.id)?.kind).toBe("openai_compatible");
    expect([...snapshot.models.keys()]).toEqual(["chat"]);
    expect(
      snapshot.models
        .get("chat")!
        .map((d) => [d.label, d.weight])
        .sort(),
    ).toEqual([
      ["sim/sim-chat", 1],
      ["upstream/up-chat", 3],
    ]);
    expect(snapshot.activePolicy).toMatchObject({ name: "only", spec: { minReplicas: 2 } });
    expect(snapshot.providerErrors.size).toBe(0);
    expect(snapshot.version).toMatch(/^[1-9]\d*$/);

    // An unchanged provider row keeps its live client (and its connection pool).
    const again = await loadSnapshot(db.pool, SECRET, snapshot);
    expect(again.providers.get(upstream.id)).toBe(snapshot.providers.get(upstream.id));
    expect(again.version).toBe(snapshot.version);
    await Promise.all([...snapshot.providers.values()].map((p) => p.client.close()));
  });
});

describe("the periodic safety net", () => {
  it("reloads nothing while the version stays, and picks up a change NOTIFY did not deliver", async () => {
    // A listen URL nothing answers on: no notification can arrive, only the periodic check.
    const fleet = new FleetConfig({
      pool: db.pool,
      listenUrl: "postgresql://postgres@127.0.0.1:1/none",
      secret: SECRET,
      refreshMs: 100,
      logger: pino({ level: "silent" }),
    });
    let reloads = 0;
    try {
      await fleet.start();
      fleet.onChange(() => reloads++);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(reloads).toBe(0);

      const { key } = await createApiKey(db.prisma, { name: "late" });
      await eventually(async () => fleet.current.keysByHash.has(hashApiKey(key)), 2_000);
      expect(reloads).toBe(1);
    } finally {
      await fleet.stop();
    }
  });
});

describe("the configuration's age", () => {
  it("is the time since it was last confirmed current: version checks confirm it, failed ones do not", async () => {
    // The database behind a proxy the test can cut; the clock is the test's.
    const target = new URL(scratch.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    target.hostname = "127.0.0.1";
    target.port = String(proxy.port);
    const proxied = createDatabase({ url: target.toString(), poolMax: 2 });
    let clock = 1_000_000;
    const fleet = new FleetConfig({
      pool: proxied.pool,
      listenUrl: "postgresql://postgres@127.0.0.1:1/none",
      secret: SECRET,
      refreshMs: 100,
      logger: pino({ level: "silent" }),
      now: () => clock,
    });
    try {
      expect(fleet.ageMs()).toBeUndefined();
      await fleet.start();
      expect(fleet.ageMs()).toBe(0);

      // Nothing changed, so nothing reloads; yet each version check confirms it anew.
      let reloads = 0;
      fleet.onChange(() => reloads++);
      clock += 60_000;
      expect(fleet.ageMs()).toBe(60_000);
      await eventually(async () => fleet.ageMs() === 0, 3_000);
      expect(reloads).toBe(0);

      // Database away: the checks fail and the age grows with the clock.
      await proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 300));
      clock += 45_000;
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Last confirmed at the clock's reading before the cut (it did not move until now).
      expect(fleet.ageMs()).toBe(45_000);
      expect(fleet.lastError).toEqual(expect.any(String));
      expect(fleet.loaded).toBe(true);

      await proxy.restore();
      await eventually(async () => fleet.ageMs() === 0, 5_000);
    } finally {
      await fleet.stop();
      await proxied.close();
      await proxy.close();
    }
  });
});
