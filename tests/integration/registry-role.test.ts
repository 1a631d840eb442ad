// The registry's roles: what an instance serves is recorded with it, and the counts that size the
// fleet's work (rate-limit claims, capacity, scaling) take only instances that serve the data plane.
// The heartbeat answers that count and the configuration version in its one statement.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  countLiveInstances,
  heartbeat,
  instanceRole,
  registerInstance,
  type InstanceIdentity,
} from "../../lib/platform/coordination/registry";
import { acquireLease } from "../../lib/platform/coordination/lease";
import { readRegisteredInstances } from "../../lib/platform/metrics-history/query/instances";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

let scratch: ScratchDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_registry_role_${randomBytes(4).toString("hex")}`, { migrate: true });
  pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  await scratch?.drop();
});

const identity = (id: string, role: InstanceIdentity["role"]): InstanceIdentity => ({
  id,
  host: "h",
  port: 1,
  version: "v",
  role,
});

it("derives the role from what the process serves", () => {
  expect(instanceRole({ consoleEnabled: false, dataPlaneEnabled: true })).toBe("data_plane");
  expect(instanceRole({ consoleEnabled: true, dataPlaneEnabled: true })).toBe("both");
  expect(instanceRole({ consoleEnabled: true, dataPlaneEnabled: false })).toBe("console");
});

it("counts live data-plane instances only, in the heartbeat's answer and in countLiveInstances, and reads the config version with it", async () => {
  await registerInstance(pool, identity("gateway", "data_plane"));
  await registerInstance(pool, identity("mixed", "both"));
  await registerInstance(pool, identity("console-only", "console"));
  const { rows } = await pool.query<{ version: string }>("SELECT version::text FROM config_version");

  expect(await heartbeat(pool, identity("gateway", "data_plane"), {}, false)).toEqual({
    liveDataPlane: 2,
    configVersion: rows[0]!.version,
    leaderHeldForMs: null,
    batchWorkWaiting: false,
  });
  expect((await heartbeat(pool, identity("console-only", "console"), {}, false)).liveDataPlane).toBe(2);
  // A draining instance no longer counts itself; the others still count it until its row says draining.
  expect((await heartbeat(pool, identity("mixed", "both"), {}, true)).liveDataPlane).toBe(1);
  expect(await countLiveInstances(pool)).toBe(1);

  await pool.query("UPDATE config_version SET version = version + 1");
  expect((await heartbeat(pool, identity("gateway", "data_plane"), {}, false)).configVersion).toBe(
    String(BigInt(rows[0]!.version) + 1n),
  );

  // The leader lease's time left, for followers to wait on instead of asking.
  await acquireLease(pool, "leader", { holder: "gateway#1", ttlMs: 10_000 });
  const { leaderHeldForMs } = await heartbeat(pool, identity("mixed", "both"), {}, false);
  expect(leaderHeldForMs).toBeGreaterThan(9_000);
  expect(leaderHeldForMs).toBeLessThanOrEqual(10_000);

  const registered = await readRegisteredInstances(pool);
  expect(Object.fromEntries(registered.map((i) => [i.id, i.role]))).toEqual({
    gateway: "data_plane",
    mixed: "both",
    "console-only": "console",
  });
});
