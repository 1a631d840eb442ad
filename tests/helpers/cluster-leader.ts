// Leader loss, as the failure tests run it (directly on PostgreSQL and again through PgBouncer):
// find the leader through the lease row, `kill -9` it, and check that another instance leads
// once the lease expires, that a write fenced with the dead leader's token is refused, and that
// leaderships never overlapped — by the instances' own "elected leader" / "no longer leader" log
// lines and by the lease row's database timestamps.
import type pg from "pg";
import { expect } from "vitest";
import { runFenced } from "../../lib/platform/coordination/lease";
import { FAST_FAILURE_ENV, eventually, figure, sleep, type TestCluster } from "./cluster-fixture";

const LEADER_TTL_MS = Number(FAST_FAILURE_ENV.LEADER_TTL_MS);
/** lib/platform/coordination/leader.ts: followers try, and the leader renews, every TTL / 3. */
const CHECK_EVERY_MS = LEADER_TTL_MS / 3;

interface LeaseSample {
  at: number;
  holder: string;
  token: bigint;
  active: boolean;
  acquiredAt: Date;
  expiresAt: Date;
}

interface Leadership {
  instance: string;
  token: bigint;
  start: number;
  end: number;
}

export interface LeaderLossFigures {
  newLeaderAfterKillMs: number;
  newLeaderAfterExpiryMs: number;
  markedDeadAfterKillMs: number;
}

export interface LeaderLossOptions {
  /** The connection the fenced writes go through (PgBouncer's address in the PgBouncer test). */
  fencePool: pg.Pool;
  /** Prefix of the printed figures. */
  label: string;
  /** Called at the instant of the kill, with the victim's id. */
  onKill?: (instance: string) => void;
}

/** Runs the scenario on a started TestCluster. */
export async function leaderLoss(
  fixture: TestCluster,
  { fencePool, label, onKill }: LeaderLossOptions,
): Promise<LeaderLossFigures & { killed: string; killedAt: number; exitedAt: number }> {
  await eventually(async () => {
    const lease = await fixture.leaderLease();
    return !!lease?.active && fixture.ownInstance(lease.holder) !== undefined;
  }, 20_000);
  // Let the fleet settle into one leadership for a few renewals before the kill.
  await sleep(2 * CHECK_EVERY_MS);
  const old = (await fixture.leaderLease())!;
  const oldInstance = fixture.ownInstance(old.holder)!;
  const oldElected = fixture
    .linesOf("elected leader")
    .filter((l) => l.instance === oldInstance)
    .at(-1);
  expect(oldElected?.line.token, "the leader logged its election with the lease's token").toBe(String(old.token));

  const samples: LeaseSample[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const lease = await fixture.leaderLease().catch(() => null);
      if (lease) samples.push({ at: Date.now(), ...lease });
      await sleep(20);
    }
  })();

  await sleep(200);
  const killedAt = Date.now();
  onKill?.(oldInstance);
  await fixture.cluster.instance(oldInstance).kill();
  const exitedAt = Date.now();

  const newLeaderAfterKillMs = await eventually(async () => {
    const lease = await fixture.leaderLease();
    return !!lease?.active && lease.holder !== old.holder && fixture.ownInstance(lease.holder) !== undefined;
  }, LEADER_TTL_MS * 3);
  const current = (await fixture.leaderLease())!;
  const newInstance = fixture.ownInstance(current.holder)!;
  // The dead leader's last expiry, as the database had it just before the takeover.
  const lastOld = samples.filter((s) => s.token === old.token).at(-1)!;
  const newLeaderAfterExpiryMs = current.acquiredAt.getTime() - lastOld.expiresAt.getTime();

  // A write fenced with the dead leader's token is refused; the same write with the new one passes.
  const write = { text: `UPDATE instances SET vitals = vitals WHERE id = $1`, values: [oldInstance] };
  expect(
    await runFenced(fencePool, { name: "leader", holder: old.holder, token: old.token }, write),
    "stale fenced write",
  ).toBeNull();
  expect(
    await runFenced(fencePool, { name: "leader", holder: current.holder, token: current.token }, write),
    "current fenced write",
  ).not.toBeNull();

  // The reaper runs on the new leader: the killed one is marked dead.
  await eventually(async () => (await fixture.registry()).get(oldInstance)?.status === "dead", 15_000);
  const markedDeadAfterKillMs = Date.now() - killedAt;
  polling = false;
  await poller;

  figure(label, "time from kill -9 to a new leader", newLeaderAfterKillMs, "ms");
  figure(label, "time from the old lease's expiry to the new acquisition (database clock)", newLeaderAfterExpiryMs, "ms");
  figure(label, "time from kill -9 to the old leader marked dead", markedDeadAfterKillMs, "ms");
  figure(label, "old token → new token", `${old.token} → ${current.token}`);
  figure(label, "kill -9 to exit observed", exitedAt - killedAt, "ms");

  expect(newInstance).not.toBe(oldInstance);
  expect(current.token).toBeGreaterThan(old.token);
  // Taken over as soon as the lease expired (within one follower check), so within the TTL plus
  // that check of the kill; never before the expiry (database clock).
  expect(newLeaderAfterExpiryMs).toBeGreaterThanOrEqual(0);
  expect(newLeaderAfterExpiryMs).toBeLessThanOrEqual(CHECK_EVERY_MS + 500);
  expect(newLeaderAfterKillMs).toBeLessThanOrEqual(LEADER_TTL_MS + CHECK_EVERY_MS + 500);
  const newElected = fixture
    .linesOf("elected leader")
    .find((l) => l.instance === newInstance && l.line.token === String(current.token));
  expect(newElected, "the new leader logged its election with the new token").toBeDefined();

  // The lease row never went backwards, and while active it named one holder per token.
  for (let i = 1; i < samples.length; i++) expect(samples[i]!.token).toBeGreaterThanOrEqual(samples[i - 1]!.token);
  const holdersByToken = new Map<bigint, Set<string>>();
  for (const s of samples.filter((s) => s.active))
    holdersByToken.set(s.token, (holdersByToken.get(s.token) ?? new Set()).add(s.holder));
  expect([...holdersByToken.keys()], "tokens seen active").toEqual(expect.arrayContaining([old.token, current.token]));
  for (const [token, holders] of holdersByToken) expect([...holders], `holders of token ${token}`).toHaveLength(1);

  // Leaderships from the logs never overlap: each ends ("no longer leader", or the kill) before
  // the next begins, and tokens grow from one to the next.
  const leaderships = leadershipsFromLogs(fixture, new Map([[oldInstance, killedAt]]));
  for (let i = 1; i < leaderships.length; i++) {
    const [previous, next] = [leaderships[i - 1]!, leaderships[i]!];
    expect(
      next.start,
      `${next.instance} (token ${next.token}) began before ${previous.instance} (token ${previous.token}) ended`,
    ).toBeGreaterThanOrEqual(previous.end);
    expect(next.token).toBeGreaterThan(previous.token);
  }
  expect(leaderships.at(-1)).toMatchObject({ instance: newInstance, token: current.token, end: Number.POSITIVE_INFINITY });
  // The new leader watches one dead-after period before it reaps (lib/platform/process/singletons.ts).
  const deadAfterMs = Number(FAST_FAILURE_ENV.INSTANCE_DEAD_AFTER_MS);
  expect(markedDeadAfterKillMs).toBeLessThanOrEqual(
    newLeaderAfterKillMs + deadAfterMs + Math.max(1_000, deadAfterMs / 3) + 1_000,
  );
  return { newLeaderAfterKillMs, newLeaderAfterExpiryMs, markedDeadAfterKillMs, killed: oldInstance, killedAt, exitedAt };
}

/** Every leadership of this cluster's instances, in start order; `endedAt` closes those of killed instances. */
function leadershipsFromLogs(fixture: TestCluster, endedAt: Map<string, number>): Leadership[] {
  const leaderships: Leadership[] = [];
  const open = new Map<string, Leadership>();
  const relevant = fixture.lines
    .filter((l) => l.line.msg === "elected leader" || l.line.msg === "no longer leader")
    .sort((a, b) => a.at - b.at);
  for (const { instance, line, at } of relevant) {
    if (line.msg === "elected leader") {
      const leadership = { instance, token: BigInt(String(line.token)), start: at, end: Number.POSITIVE_INFINITY };
      open.set(instance, leadership);
      leaderships.push(leadership);
    } else {
      const leadership = open.get(instance);
      if (leadership) leadership.end = at;
      open.delete(instance);
    }
  }
  for (const [instance, leadership] of open) {
    const killed = endedAt.get(instance);
    if (killed !== undefined) leadership.end = killed;
  }
  return leaderships.sort((a, b) => a.start - b.start);
}
