// Crash under steady load: `kill -9` one of three instances (not the leader, so that reaping is
// measured on its own; leader loss has its own test). What the client may lose is bounded by what
// was in flight at the instant of the kill — a request nginx already sent to the dead instance
// is not retried (it is a POST), a stream it was relaying is cut — and everything sent after it
// must succeed: refused connections are retried on another instance, and passive health checks
// (max_fails) take the dead one out. The registry must mark it dead within the dead-after time
// plus one reaping period.
import { expect, it } from "vitest";
import {
  FAST_FAILURE_ENV,
  type TestCluster,
  clusterWithWorkloadForThisFile,
  eventually,
  figure,
  sleep,
} from "../helpers/cluster-fixture";
import { LoadGenerator, crashAllowance, describeLosses, summarize, unexplainedLosses } from "../helpers/load";

const RATE = 20;
const DEAD_AFTER_MS = Number(FAST_FAILURE_ENV.INSTANCE_DEAD_AFTER_MS);
// lib/platform/process/singletons.ts reaps every max(1 s, dead-after / 3).
const REAP_EVERY_MS = Math.max(1_000, Math.floor(DEAD_AFTER_MS / 3));
let fixture: TestCluster;
clusterWithWorkloadForThisFile((started) => (fixture = started));

it("loses at most the requests in flight on the killed instance, and marks it dead within the heartbeat timeout", async () => {
  // One of ours leads (a previous test's leader may still hold the lease for up to its TTL).
  await eventually(async () => {
    const lease = await fixture.leaderLease();
    return !!lease?.active && fixture.ownInstance(lease.holder) !== undefined;
  }, 15_000);
  const leader = fixture.ownInstance((await fixture.leaderLease())!.holder)!;
  const victim = fixture.running().find((i) => i.id !== leader)!;

  const load = new LoadGenerator({ baseUrl: fixture.url, keys: fixture.keys, model: fixture.model, ratePerSecond: RATE }).start();
  await sleep(3_000);
  const killedAt = Date.now();
  const inFlight = load.inFlight();
  await fixture.cluster.instance(victim.id).kill();
  const exitedAt = Date.now();
  figure("crash", "kill -9 to exit observed", exitedAt - killedAt, "ms");

  await eventually(async () => (await fixture.registry()).get(victim.id)?.status === "dead", 15_000, 50);
  const deadAfterMs = Date.now() - killedAt;
  await sleep(Math.max(0, 5_000 - (Date.now() - killedAt)));
  const report = await load.stop();
  console.log(summarize(report));

  const allowance = crashAllowance(report, inFlight, killedAt, exitedAt, victim.id);
  const lost = report.failures;
  figure("crash", "requests in flight at the kill (all instances)", inFlight.length);
  figure("crash", "requests that could be on the victim (in flight at the kill, or sent before its exit)", allowance.length);
  figure("crash", "failed requests", report.failed);
  figure("crash", "truncated streams", report.truncated);
  figure("crash", "time to mark dead", deadAfterMs, "ms");
  console.log(describeLosses(report, killedAt).join("\n"));

  // Only requests in flight on the victim at the kill may fail (see crashAllowance).
  expect(unexplainedLosses(report, allowance), "failures the crash does not explain").toEqual([]);
  expect(lost.length).toBeLessThanOrEqual(allowance.length);
  expect(lost.every((r) => r.instance === undefined || r.instance === victim.id)).toBe(true);
  expect(report.skipped).toBe(0);
  expect(report.sent).toBeGreaterThanOrEqual(Math.floor((RATE * report.durationMs) / 1000) - 2);
  // The survivors carried the load after the kill.
  const afterKill = report.records.filter((r) => r.startedAt > exitedAt);
  expect(afterKill.length).toBeGreaterThan(RATE * 3);
  expect(afterKill.every((r) => r.outcome === "ok" && r.instance !== victim.id)).toBe(true);

  // Dead within the heartbeat timeout plus one reaping period (and network/scheduling slack).
  expect(deadAfterMs).toBeLessThanOrEqual(DEAD_AFTER_MS + REAP_EVERY_MS + 1_000);
  const registry = await fixture.registry();
  for (const survivor of fixture.running()) expect(registry.get(survivor.id)?.status, survivor.id).toBe("healthy");
  // The runner saw the crash and took the instance out of nginx.
  expect(fixture.events.some((e) => e.includes(`instance ${victim.id}`) && e.includes("exited on its own"))).toBe(true);
  expect(fixture.cluster.instances().map((i) => i.id)).not.toContain(victim.id);
});
