// Three electors in one process, each with its own pool reaching PostgreSQL through its own small
// TCP proxy on 127.0.0.1, so that one can be cut off abruptly: a crash as the database sees it
// (no more renewals, no release), with the cut-off process still running, as a partitioned one
// would. One lease name per test.
import { randomBytes } from "node:crypto";
import net from "node:net";
import pg from "pg";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { startLeaderElection, type DeposedReason, type LeaderElection } from "../../lib/platform/coordination/leader";
import { readLease } from "../../lib/platform/coordination/lease";

const TTL_MS = 600;
const CHECK_EVERY_MS = TTL_MS / 3;
const databaseUrl = new URL(inject("databaseUrl"));
const direct = new pg.Pool({ connectionString: databaseUrl.toString(), max: 1 });

interface Proxy {
  url: string;
  cut(): void;
  close(): Promise<void>;
}

async function startProxy(): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  let severed = false;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (severed) return void client.destroy();
    const upstream = net.connect(Number(databaseUrl.port || 5432), databaseUrl.hostname);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as net.AddressInfo).port);
  const cut = () => {
    severed = true;
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: url.toString(),
    cut,
    close: () => {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Elector {
  holder: string;
  election: LeaderElection;
  proxy: Proxy;
  pool: pg.Pool;
  elected: { token: bigint; at: number }[];
  deposed: { reason: DeposedReason; at: number }[];
}

const started: Elector[] = [];

async function startElectors(name: string, count = 3, setup?: (elector: Elector) => void): Promise<Elector[]> {
  const electors: Elector[] = [];
  for (let i = 0; i < count; i++) {
    const proxy = await startProxy();
    const pool = new pg.Pool({ connectionString: proxy.url, max: 3, connectionTimeoutMillis: 1_000 });
    pool.on("error", () => {}); // idle connections dropped by a cut
    const holder = `instance-${i}`;
    const elected: Elector["elected"] = [];
    const deposed: Elector["deposed"] = [];
    const election = startLeaderElection({
      pool,
      holder,
      ttlMs: TTL_MS,
      name,
      onElected: (token) => elected.push({ token, at: performance.now() }),
      onDeposed: (reason) => deposed.push({ reason, at: performance.now() }),
    });
    const elector: Elector = { holder, election, proxy, pool, elected, deposed };
    setup?.(elector);
    electors.push(elector);
    started.push(elector);
  }
  return electors;
}

afterEach(async () => {
  const electors = started.splice(0);
  await Promise.all(electors.map((e) => e.election.stop()));
  await Promise.all(electors.map((e) => e.proxy.close()));
  await Promise.all(electors.map((e) => e.pool.end()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const leaders = (electors: Elector[]) => electors.filter((e) => e.election.isLeader());

/** Polls until `find` returns something, for at most `timeoutMs`. */
async function waitFor<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const found = find();
    if (found !== undefined) return found;
    await sleep(5);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
}

const newLeader =
  (electors: Elector[], except: Elector[] = []) =>
  () => {
    const current = leaders(electors).filter((e) => !except.includes(e));
    return current.length === 1 ? current[0] : undefined;
  };

const fresh = () => `test-leader-${randomBytes(6).toString("hex")}`;

describe("startLeaderElection", () => {
  it("elects exactly one of three, keeps it while it renews, and records it in the lease", async () => {
    const name = fresh();
    const electors = await startElectors(name);
    const leader = await waitFor(newLeader(electors), 3_000, "a leader");

    // Over five TTLs, sampled often: always that one and only that one.
    const samples = new Set<string>();
    for (let i = 0; i < 150; i++) {
      samples.add(
        leaders(electors)
          .map((e) => e.holder)
          .join(","),
      );
      await sleep(20);
    }
    expect([...samples]).toEqual([leader.holder]);
    expect(leader.election.token()).toBe(leader.elected[0]!.token);
    expect(electors.filter((e) => e !== leader).map((e) => [e.election.token(), e.elected.length])).toEqual([
      [null, 0],
      [null, 0],
    ]);
    expect(await readLease(direct, name)).toMatchObject({ holder: leader.holder, token: leader.election.token(), active: true });
  });

  it("hands over within the TTL when the leader stops and releases", async () => {
    const name = fresh();
    const electors = await startElectors(name);
    const first = await waitFor(newLeader(electors), 3_000, "a leader");
    const firstToken = first.election.token()!;

    const stoppedAt = performance.now();
    await first.election.stop();
    expect(first.election.isLeader()).toBe(false);
    expect(first.deposed.map((d) => d.reason)).toEqual(["stopped"]);
    const second = await waitFor(newLeader(electors, [first]), TTL_MS, "a successor within the TTL");
    expect(performance.now() - stoppedAt).toBeLessThan(TTL_MS);
    expect(second.election.token()!).toBeGreaterThan(firstToken);
    expect(leaders(electors)).toEqual([second]);
    expect(await readLease(direct, name)).toMatchObject({ holder: second.holder, token: second.election.token() });
  });

  it("after a crash (cut off, no release) the old leader steps down before another is elected, within about the TTL", async () => {
    const name = fresh();
    const electors = await startElectors(name);
    const first = await waitFor(newLeader(electors), 3_000, "a leader");
    const firstToken = first.election.token()!;

    const cutAt = performance.now();
    first.proxy.cut();
    const second = await waitFor(newLeader(electors, [first]), TTL_MS + 2 * CHECK_EVERY_MS + 500, "a successor");
    const electedAt = second.elected.at(-1)!.at;
    // Longest path: last renewal just before the cut (expiry at most TTL after it), then up to one
    // check interval until a follower tries, plus the round trips.
    expect(electedAt - cutAt).toBeLessThan(TTL_MS + CHECK_EVERY_MS + 250);
    expect(second.election.token()!).toBeGreaterThan(firstToken);
    // The cut-off leader could not renew and stepped down by its own clock first.
    expect(first.deposed.map((d) => d.reason)).toEqual(["unconfirmed"]);
    expect(first.deposed[0]!.at).toBeLessThan(electedAt);
    expect(first.deposed[0]!.at - cutAt).toBeLessThan(TTL_MS);
    expect(leaders(electors)).toEqual([second]);
  });

  it("stop() waits for a job that is slow to stop before it releases the lease", async () => {
    const name = fresh();
    let jobEnded = Number.NaN;
    const [only] = await startElectors(name, 1, (elector) => {
      elector.election.runJob("slow-to-stop", 1_000, async (_token, signal) => {
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        await sleep(150); // winding down, still doing guarded work
        jobEnded = performance.now();
      });
    });
    await waitFor(() => (only!.election.isLeader() ? only : undefined), 3_000, "leadership");
    await sleep(50);
    let releasedAt = Number.NaN;
    const watching = (async () => {
      for (let i = 0; i < 200 && Number.isNaN(releasedAt); i++) {
        if ((await readLease(direct, name))?.active === false) releasedAt = performance.now();
        else await sleep(5);
      }
    })();
    await only!.election.stop();
    const stopResolved = performance.now();
    await watching;
    expect(jobEnded).toBeLessThanOrEqual(stopResolved);
    expect(releasedAt).toBeGreaterThan(jobEnded);
    expect(only!.election.isLeader()).toBe(false);
  });

  it("runs a registered job only on the leader, never on two at once, through a stop and a crash", async () => {
    const name = fresh();
    const runs: { holder: string; token: bigint; leading: boolean; start: number; end: number }[] = [];
    const electors = await startElectors(name, 3, (elector) => {
      elector.election.runJob("singleton", 20, async (token, signal) => {
        const start = performance.now();
        const leading = elector.election.isLeader() && elector.election.token() === token;
        // Work that honours the signal: 30 ms unless deposed first.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
          };
          const timer = setTimeout(done, 30);
          signal.addEventListener("abort", done);
        });
        runs.push({ holder: elector.holder, token, leading, start, end: performance.now() });
      });
    });
    expect(() => electors[0]!.election.runJob("singleton", 20, async () => {})).toThrow(/already registered/);

    const first = await waitFor(newLeader(electors), 3_000, "a leader");
    await sleep(400);
    await first.election.stop();
    const firstStopped = performance.now();
    const second = await waitFor(newLeader(electors, [first]), TTL_MS, "a successor after stop");
    await sleep(400);
    second.proxy.cut();
    const third = await waitFor(
      newLeader(electors, [first, second]),
      TTL_MS + 2 * CHECK_EVERY_MS + 500,
      "a successor after the crash",
    );
    await sleep(400);
    await Promise.all(electors.map((e) => e.election.stop()));

    expect(runs.filter((r) => !r.leading)).toEqual([]);
    const byStart = [...runs].sort((a, b) => a.start - b.start);
    for (let i = 1; i < byStart.length; i++) {
      expect(
        byStart[i]!.start,
        `run ${i} (${byStart[i]!.holder}) overlaps run ${i - 1} (${byStart[i - 1]!.holder})`,
      ).toBeGreaterThanOrEqual(byStart[i - 1]!.end);
      expect(byStart[i]!.token).toBeGreaterThanOrEqual(byStart[i - 1]!.token);
    }
    // Three terms in order, each with several runs.
    const terms: string[] = [];
    for (const run of byStart) if (terms.at(-1) !== run.holder) terms.push(run.holder);
    expect(terms).toEqual([first.holder, second.holder, third.holder]);
    for (const elector of [first, second, third]) {
      expect(runs.filter((r) => r.holder === elector.holder).length).toBeGreaterThanOrEqual(5);
    }
    // Stopped immediately: nothing ran on the first after its stop; on the cut-off one nothing
    // started after it stepped down, and a run in progress then ended at once.
    expect(runs.filter((r) => r.holder === first.holder && r.end > firstStopped)).toEqual([]);
    expect(second.deposed.map((d) => d.reason)).toEqual(["unconfirmed"]);
    const secondDeposedAt = second.deposed[0]!.at;
    const secondRuns = runs.filter((r) => r.holder === second.holder);
    expect(secondRuns.filter((r) => r.start >= secondDeposedAt)).toEqual([]);
    expect(secondRuns.filter((r) => r.end > secondDeposedAt + 50)).toEqual([]);
  });
});

afterAll(() => direct.end());
