// Scaling policies in PostgreSQL (a database of this file's own: switching the active policy must
// not surprise other test files): seeding the presets, saving custom policies, activating one in
// a transaction with its history row and audit entry, and the NOTIFY that carries the change to
// every instance's FleetSnapshot.
import { randomBytes } from "node:crypto";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { FleetConfig } from "../../lib/data-plane/fleet-config/config-sync";
import { BadRequestError, ConflictError, NotFoundError } from "../../lib/platform/errors";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import {
  activatePolicy,
  getActivePolicy,
  listPolicies,
  listPolicyChanges,
  savePolicy,
  seedPolicies,
} from "../../lib/control-plane/scaling/store";
import { eventually } from "../helpers/gateway-fixture";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

/** The FleetConfig's LISTEN connection on this database, idle after its LISTEN. */
const LISTENING_SQL = `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'agenticorp-listen'
  AND query = 'LISTEN agenticorp_config' AND state = 'idle'`;

const admin = { id: null, email: "admin@example.com" };
let scratch: ScratchDatabase;
let db: Database;

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_scaling_store_${randomBytes(4).toString("hex")}`, { migrate: true });
  db = createDatabase({ url: scratch.url, poolMax: 4 });
});
afterAll(async () => {
  await db?.close();
  await scratch?.drop();
});

describe("seeding", () => {
  it("creates the presets once and activates balanced when nothing is active", async () => {
    expect(await seedPolicies(db.prisma)).toEqual({
      created: ["aggressive", "balanced", "conservative"],
      updated: [],
      activated: "balanced",
    });
    expect(await seedPolicies(db.prisma)).toEqual({ created: [], updated: [], activated: null });
    const policies = await listPolicies(db.prisma);
    expect(policies.map((p) => [p.name, p.preset, p.active])).toEqual([
      ["aggressive", true, false],
      ["balanced", true, true],
      ["conservative", true, false],
    ]);
    expect(policies.find((p) => p.name === "balanced")!.spec).toEqual(PRESETS.balanced);
  });

  it("is safe for many instances at once", async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => seedPolicies(db.prisma)));
    expect(results.every((r) => r.created.length === 0 && r.activated === null)).toBe(true);
    expect(await db.prisma.scalingPolicy.count({ where: { active: true } })).toBe(1);
  });

  it("brings a preset changed by hand back to this version's definition, with a history row", async () => {
    await db.pool.query(`UPDATE scaling_policies SET spec = jsonb_set(spec, '{maxReplicas}', '99') WHERE name = 'conservative'`);
    expect(await seedPolicies(db.prisma)).toEqual({ created: [], updated: ["conservative"], activated: null });
    const [latest] = await listPolicyChanges(db.prisma, 1);
    expect(latest).toMatchObject({
      policyName: "conservative",
      actor: "system",
      reason: "preset definition changed in this version",
    });
    expect((latest!.before as any).spec.maxReplicas).toBe(99);
    expect((latest!.after as any).spec.maxReplicas).toBe(10);
  });
});

describe("custom policies", () => {
  const custom = { ...structuredClone(PRESETS.balanced), description: "night shift", minReplicas: 1, maxReplicas: 4 };

  it("saves a valid one and audits it", async () => {
    const saved = await savePolicy(db.prisma, { name: "night-shift", spec: custom }, admin);
    expect(saved).toMatchObject({ name: "night-shift", preset: false, active: false, spec: custom, error: null });
    const audit = await db.prisma.auditEntry.findFirst({ where: { action: "scaling_policy.save", targetId: saved.id } });
    expect(audit).toMatchObject({ actorEmail: admin.email, targetType: "scaling_policy" });
    expect((audit!.after as any).spec.maxReplicas).toBe(4);
  });

  it("refuses an invalid one with the offending field, and writes nothing", async () => {
    const before = await db.prisma.scalingPolicy.count();
    const attempt = savePolicy(db.prisma, { name: "broken", spec: { ...custom, minReplicas: 5, maxReplicas: 2 } }, admin);
    await expect(attempt).rejects.toBeInstanceOf(BadRequestError);
    await expect(attempt).rejects.toMatchObject({
      param: "spec.maxReplicas",
      message: "spec.maxReplicas: maxReplicas (2) must be at least minReplicas (5)",
    });
    await expect(
      savePolicy(
        db.prisma,
        { name: "broken", spec: { ...custom, cpu: { scaleUpAtPercent: 50, scaleDownAtPercent: 60 } } },
        admin,
      ),
    ).rejects.toMatchObject({
      message: "spec.cpu.scaleDownAtPercent: scaleDownAtPercent (60) must be below scaleUpAtPercent (50)",
    });
    expect(await db.prisma.scalingPolicy.count()).toBe(before);
  });

  it("will not overwrite a preset", async () => {
    await expect(savePolicy(db.prisma, { name: "balanced", spec: custom }, admin)).rejects.toBeInstanceOf(ConflictError);
  });
});

describe("activation", () => {
  it("switches the active policy in one transaction with its history row and audit entry", async () => {
    const result = await activatePolicy(db.prisma, "aggressive", admin, "Black Friday");
    expect(result.changed).toBe(true);
    expect(result.before?.name).toBe("balanced");
    expect(result.after).toMatchObject({ name: "aggressive", active: true });
    expect((await getActivePolicy(db.prisma))?.name).toBe("aggressive");
    expect(await db.prisma.scalingPolicy.count({ where: { active: true } })).toBe(1);

    const [change] = await listPolicyChanges(db.prisma, 1);
    expect(change).toMatchObject({ policyName: "aggressive", actor: admin.email, reason: "Black Friday" });
    expect((change!.before as any).name).toBe("balanced");
    expect((change!.after as any).spec).toEqual(PRESETS.aggressive);

    const audit = await db.prisma.auditEntry.findFirst({ where: { action: "scaling_policy.activate" }, orderBy: { id: "desc" } });
    expect(audit).toMatchObject({ actorEmail: admin.email, targetType: "scaling_policy", targetId: result.after.id });
    expect(audit!.before).toMatchObject({ name: "balanced" });
    expect(audit!.after).toMatchObject({ name: "aggressive", reason: "Black Friday" });
  });

  it("does nothing when the policy is already active", async () => {
    const changes = await db.prisma.scalingPolicyChange.count();
    expect((await activatePolicy(db.prisma, "aggressive", admin, null)).changed).toBe(false);
    expect(await db.prisma.scalingPolicyChange.count()).toBe(changes);
  });

  it("refuses an unknown name", async () => {
    await expect(activatePolicy(db.prisma, "nope", admin, null)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("lets two admins switching at once both succeed, in turn, each recording the true before", async () => {
    await Promise.all([
      activatePolicy(db.prisma, "conservative", admin, "one"),
      activatePolicy(db.prisma, "night-shift", admin, "two"),
    ]);
    const [last, first] = await listPolicyChanges(db.prisma, 2);
    expect((first!.before as any).name).toBe("aggressive");
    expect((last!.before as any).name).toBe((first!.after as any).name);
    expect((await getActivePolicy(db.prisma))?.name).toBe((last!.after as any).name);
    expect(await db.prisma.scalingPolicy.count({ where: { active: true } })).toBe(1);
  });

  it("reaches another instance's FleetSnapshot through NOTIFY well within a second", async () => {
    const other = createDatabase({ url: scratch.url, poolMax: 2 });
    const fleet = new FleetConfig({
      pool: other.pool,
      listenUrl: scratch.url,
      secret: "x".repeat(32),
      refreshMs: 3_600_000,
      logger: pino({ level: "silent" }),
    });
    const listener = new pg.Client({ connectionString: scratch.url });
    try {
      await fleet.start();
      await listener.connect();
      await listener.query("LISTEN agenticorp_config");
      const notified = new Promise<string | undefined>((resolve) => listener.once("notification", (n) => resolve(n.payload)));
      const seen = new Promise<number>((resolve) => {
        const off = fleet.onChange((snapshot) => {
          if (snapshot.activePolicy?.name === "balanced") {
            off();
            resolve(performance.now());
          }
        });
      });
      // The FleetConfig's own LISTEN connection comes up just after start(): wait for it (and its
      // catch-up reload) rather than guess how long connecting takes on a loaded machine, where a
      // late LISTEN would count its own set-up as notification latency.
      await eventually(async () => (await listener.query(LISTENING_SQL)).rowCount === 1, 10_000);
      await fleet.reload("test: settled");
      const started = performance.now();
      await activatePolicy(db.prisma, "balanced", admin, "back to normal");
      expect(await notified).toBe("scaling_policies");
      const elapsed = (await seen) - started;
      expect(elapsed).toBeLessThan(1_000);
      expect(fleet.current.activePolicy?.name).toBe("balanced");
    } finally {
      await listener.end();
      await fleet.stop();
      await other.close();
    }
  });
});
