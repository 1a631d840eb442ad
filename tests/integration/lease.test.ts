// The lease rules against the real database, one lease name per test. Expiry is forced with SQL
// (moving expires_at into the past) rather than by sleeping.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  acquireLease,
  assertFence,
  fenceCondition,
  fenceValues,
  FencedWriteRefused,
  LeaseLostError,
  readLease,
  releaseLease,
  renewLease,
  runFenced,
  safetyMarginMs,
  withLease,
  type Fence,
} from "../../lib/platform/coordination/lease";

const pool = new pg.Pool({ connectionString: inject("databaseUrl"), max: 6 });
const table = `lease_writes_${randomBytes(4).toString("hex")}`;
const fresh = () => `test-lease-${randomBytes(6).toString("hex")}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `signal` aborts, or after `ms` at the latest. */
function untilAborted(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/** Forces the lease to have expired by the database's clock, as if its holder had stalled. */
async function expire(name: string) {
  const { rowCount } = await pool.query(`UPDATE leases SET expires_at = now() - interval '1 second' WHERE name = $1`, [name]);
  expect(rowCount).toBe(1);
}

async function row(name: string) {
  const { rows } = await pool.query(
    `SELECT holder, token::text AS token, expires_at > now() AS active, expires_at::text AS expires_at, acquired_at::text AS acquired_at
     FROM leases WHERE name = $1`,
    [name],
  );
  return rows[0];
}

async function writes(name: string): Promise<{ token: string; value: string }[]> {
  const { rows } = await pool.query(`SELECT token::text AS token, value FROM ${table} WHERE lease_name = $1 ORDER BY id`, [name]);
  return rows;
}

function insertUnder(lease: Fence, value: string) {
  return {
    text: `INSERT INTO ${table} (lease_name, token, value) VALUES ($1, $2::bigint, $3)`,
    values: [lease.name, lease.token.toString(), value],
  };
}

beforeAll(async () => {
  await pool.query(
    `CREATE TABLE ${table} (id bigserial PRIMARY KEY, lease_name text NOT NULL, token bigint NOT NULL, value text NOT NULL)`,
  );
});

afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

describe("acquireLease", () => {
  it("takes a free lease with token 1 and records the holder", async () => {
    const name = fresh();
    const lease = await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 });
    expect(lease).toMatchObject({ name, holder: "a", token: 1n, ttlMs: 5_000 });
    expect(await row(name)).toMatchObject({ holder: "a", token: "1", active: true });
    expect(await readLease(pool, name)).toMatchObject({ holder: "a", token: 1n, active: true });
    const state = await readLease(pool, name);
    expect(state!.expiresInMs).toBeGreaterThan(4_000);
    expect(state!.expiresInMs).toBeLessThanOrEqual(5_000);
  });

  it("refuses a second holder while the lease is unexpired, changing nothing", async () => {
    const name = fresh();
    await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 });
    const before = await row(name);
    expect(await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 })).toBeNull();
    expect(await row(name)).toEqual(before);
  });

  it("lets the holder take back its unexpired lease as a new acquisition, fencing off the earlier one", async () => {
    const name = fresh();
    const earlier = (await acquireLease(pool, name, { holder: "a", ttlMs: 1_000 }))!;
    const before = await row(name);
    const again = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    expect(again.token).toBe(2n);
    const after = await row(name);
    expect(new Date(after.expires_at).getTime()).toBeGreaterThan(new Date(before.expires_at).getTime());
    // A late renewal, release or write of the earlier acquisition changes nothing.
    expect(await renewLease(pool, earlier)).toBeNull();
    expect(await releaseLease(pool, earlier)).toBe(false);
    expect(await runFenced(pool, earlier, insertUnder(earlier, "earlier"))).toBeNull();
    expect(await row(name)).toEqual(after);
    expect(await writes(name)).toEqual([]);
  });

  it("lets another holder steal an expired lease, with a strictly higher token", async () => {
    const name = fresh();
    const a = await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 });
    await expire(name);
    const b = await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 });
    expect(b?.token).toBe(a!.token + 1n);
    expect(await row(name)).toMatchObject({ holder: "b", token: "2", active: true });
  });

  it("gives the same holder a new token when it acquires after its lease expired", async () => {
    const name = fresh();
    await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 });
    await expire(name);
    expect((await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))?.token).toBe(2n);
  });

  it("expires on its own after the TTL by the database's clock", async () => {
    const name = fresh();
    await acquireLease(pool, name, { holder: "a", ttlMs: 200 });
    expect(await acquireLease(pool, name, { holder: "b", ttlMs: 200 })).toBeNull();
    await sleep(250);
    expect((await acquireLease(pool, name, { holder: "b", ttlMs: 200 }))?.token).toBe(2n);
  });

  it("estimates validity locally from the moment the statement was sent, minus a margin", async () => {
    const before = performance.now();
    const lease = await acquireLease(pool, fresh(), { holder: "a", ttlMs: 300 });
    expect(lease!.validUntil).toBeGreaterThanOrEqual(before + 300 - safetyMarginMs(300));
    expect(lease!.validUntil).toBeLessThanOrEqual(performance.now() + 300 - safetyMarginMs(300));
  });

  it("rejects a nonsensical TTL or holder before touching the database", async () => {
    await expect(acquireLease(pool, fresh(), { holder: "a", ttlMs: 0 })).rejects.toThrow(RangeError);
    await expect(acquireLease(pool, fresh(), { holder: "a", ttlMs: 1.5 })).rejects.toThrow(RangeError);
    await expect(acquireLease(pool, fresh(), { holder: "", ttlMs: 1_000 })).rejects.toThrow(TypeError);
  });

  it("decides by the latest row version, not by what its statement saw when it started", async () => {
    // A competitor has created the row but not committed: our statement cannot see it, waits for it
    // on the unique index, and must then refuse rather than overwrite it.
    const name = fresh();
    const competitor = await pool.connect();
    try {
      await competitor.query("BEGIN");
      await competitor.query(
        `INSERT INTO leases (name, holder, token, expires_at, acquired_at) VALUES ($1, 'x', 1, now() + interval '5 seconds', now())`,
        [name],
      );
      const attempt = acquireLease(pool, name, { holder: "b", ttlMs: 5_000 });
      await sleep(100);
      await competitor.query("COMMIT");
      expect(await attempt).toBeNull();
    } finally {
      competitor.release();
    }
    expect(await row(name)).toMatchObject({ holder: "x", token: "1", active: true });

    // The same when an expired lease is being taken over by another, still uncommitted.
    await expire(name);
    const thief = await pool.connect();
    try {
      await thief.query("BEGIN");
      await thief.query(
        `UPDATE leases SET holder = 'c', token = token + 1, expires_at = now() + interval '5 seconds' WHERE name = $1`,
        [name],
      );
      const attempt = acquireLease(pool, name, { holder: "b", ttlMs: 5_000 });
      await sleep(100);
      await thief.query("COMMIT");
      expect(await attempt).toBeNull();
    } finally {
      thief.release();
    }
    expect(await row(name)).toMatchObject({ holder: "c", token: "2", active: true });
  });

  it("lets exactly one of many simultaneous contenders win a free lease", async () => {
    const name = fresh();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => acquireLease(pool, name, { holder: `h${i}`, ttlMs: 5_000 })),
    );
    const winners = results.filter((lease) => lease !== null);
    expect(winners).toHaveLength(1);
    expect(await row(name)).toMatchObject({ holder: winners[0]!.holder, token: "1" });
  });
});

describe("renewLease", () => {
  it("extends the expiry for the holder of the current token", async () => {
    const name = fresh();
    const lease = (await acquireLease(pool, name, { holder: "a", ttlMs: 2_000 }))!;
    const before = await row(name);
    await sleep(20);
    const renewed = await renewLease(pool, lease);
    expect(renewed).toMatchObject({ name, holder: "a", token: lease.token });
    expect(renewed!.validUntil).toBeGreaterThan(lease.validUntil);
    const after = await row(name);
    expect(new Date(after.expires_at).getTime()).toBeGreaterThan(new Date(before.expires_at).getTime());
    expect(after.acquired_at).toBe(before.acquired_at);
  });

  it("fails once another holder has taken the lease, leaving it to them", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expire(name);
    await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 });
    const before = await row(name);
    expect(await renewLease(pool, a)).toBeNull();
    expect(await row(name)).toEqual(before);
  });

  it("fails for an expired lease even when nobody has taken it", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expire(name);
    expect(await renewLease(pool, a)).toBeNull();
    expect(await row(name)).toMatchObject({ holder: "a", active: false });
  });
});

describe("releaseLease", () => {
  it("only the holder with the current token releases, and the token sequence survives", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expire(name);
    const b = (await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 }))!;
    expect(await releaseLease(pool, a)).toBe(false); // old token
    expect(await releaseLease(pool, { ...b, holder: "a" })).toBe(false); // right token, wrong holder
    expect(await releaseLease(pool, { ...b, token: b.token + 1n })).toBe(false); // a token never issued
    expect(await row(name)).toMatchObject({ holder: "b", token: "2", active: true });

    expect(await releaseLease(pool, b)).toBe(true);
    expect(await row(name)).toMatchObject({ holder: "b", token: "2", active: false });
    // Free at once, and the next acquisition continues the sequence instead of restarting at 1.
    const c = await acquireLease(pool, name, { holder: "c", ttlMs: 5_000 });
    expect(c?.token).toBe(3n);
    expect(await renewLease(pool, b)).toBeNull();
  });

  it("lets the same holder reacquire at once after releasing, with a new token", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    expect(await releaseLease(pool, a)).toBe(true);
    expect((await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))?.token).toBe(2n);
  });
});

describe("fenced writes", () => {
  it("refuses a write carrying an old token after a steal, and accepts the new holder's", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    expect(await runFenced(pool, a, insertUnder(a, "a-before"))).toMatchObject({ rowCount: 1 });
    await expire(name);
    const b = (await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 }))!;

    expect(await runFenced(pool, a, insertUnder(a, "a-late"))).toBeNull();
    expect(await runFenced(pool, b, insertUnder(b, "b"))).toMatchObject({ rowCount: 1 });
    expect(await writes(name)).toEqual([
      { token: "1", value: "a-before" },
      { token: "2", value: "b" },
    ]);
  });

  it("refuses a write carrying the holder's own earlier token after it acquired again", async () => {
    const name = fresh();
    const first = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expire(name);
    const second = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    expect(second.token).toBe(first.token + 1n);
    expect(await runFenced(pool, first, insertUnder(first, "old"))).toBeNull();
    expect(await runFenced(pool, second, insertUnder(second, "new"))).toMatchObject({ rowCount: 1 });
    expect(await writes(name)).toEqual([{ token: "2", value: "new" }]);
  });

  it("refuses a write under an expired lease even when nobody has taken it", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expire(name);
    expect(await runFenced(pool, a, insertUnder(a, "late"))).toBeNull();
    expect(await writes(name)).toEqual([]);
  });

  it("embeds in a single statement: the old token writes nothing, the current one writes", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expire(name);
    const b = (await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 }))!;
    const text = `INSERT INTO ${table} (lease_name, token, value) SELECT $1, $4::bigint, $5 WHERE ${fenceCondition(2)}`;
    const late = await pool.query(text, [name, ...fenceValues(a), "a-late"]);
    expect(late.rowCount).toBe(0);
    const ok = await pool.query(text, [name, ...fenceValues(b), "b"]);
    expect(ok.rowCount).toBe(1);
    expect(await writes(name)).toEqual([{ token: "2", value: "b" }]);
  });

  it("assertFence throws FencedWriteRefused inside the caller's transaction, which then rolls back", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expire(name);
    await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 });
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await expect(assertFence(client, a)).rejects.toSatisfy(
        (error) => error instanceof FencedWriteRefused && error.fence.token === a.token,
      );
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
  });

  it("propagates the write's own error and writes nothing", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 5_000 }))!;
    await expect(runFenced(pool, a, { text: `INSERT INTO ${table} (lease_name) VALUES ($1)`, values: [name] })).rejects.toThrow(
      /null value/,
    );
    expect(await writes(name)).toEqual([]);
  });

  it("holds the proof until commit: a steal waits for the fenced transaction, then gets the next token", async () => {
    const name = fresh();
    const a = (await acquireLease(pool, name, { holder: "a", ttlMs: 300 }))!;
    const client = await pool.connect();
    const events: string[] = [];
    try {
      await client.query("BEGIN");
      await assertFence(client, a);
      await sleep(400); // the lease has now expired by the database's clock
      const steal = acquireLease(pool, name, { holder: "b", ttlMs: 5_000 }).then((lease) => {
        events.push("stolen");
        return lease;
      });
      await sleep(150);
      const write = insertUnder(a, "a-under-proof");
      await client.query(write.text, write.values);
      events.push("write");
      // Recorded when COMMIT is sent: once it has run, the steal's reply may be read before COMMIT's.
      const committed = client.query("COMMIT");
      events.push("commit");
      await committed;
      expect((await steal)?.token).toBe(2n);
    } finally {
      client.release();
    }
    expect(events).toEqual(["write", "commit", "stolen"]);
    expect(await runFenced(pool, a, insertUnder(a, "a-after-steal"))).toBeNull();
    expect(await writes(name)).toEqual([{ token: "1", value: "a-under-proof" }]);
  });
});

describe("withLease", () => {
  it("runs fn with the token, keeps the lease renewed past its TTL, and releases it after", async () => {
    const name = fresh();
    let seen: { token: bigint; heldAtEnd: boolean; activeAtEnd: boolean | undefined } | undefined;
    // A TTL that leaves each renewal ~340 ms to land: at 200 ms (~110 ms each) a loaded machine
    // lost it to "unconfirmed", which is the lease working, not renewals failing.
    const result = await withLease(pool, name, { holder: "a", ttlMs: 600 }, async (token, signal, lease) => {
      await sleep(1_500); // 2.5 TTLs: only renewals keep it
      expect(signal.aborted).toBe(false);
      seen = { token, heldAtEnd: lease.isHeld(), activeAtEnd: (await readLease(pool, name))?.active };
      expect(await runFenced(pool, lease, insertUnder(lease, "inside"))).not.toBeNull();
      return "done";
    });
    expect(result).toBe("done");
    expect(seen).toEqual({ token: 1n, heldAtEnd: true, activeAtEnd: true });
    expect(await row(name)).toMatchObject({ holder: "a", token: "1", active: false });
  });

  it("resolves to null without calling fn when another holder has the lease", async () => {
    const name = fresh();
    await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 });
    let called = false;
    const result = await withLease(pool, name, { holder: "a", ttlMs: 5_000 }, async () => {
      called = true;
    });
    expect(result).toBeNull();
    expect(called).toBe(false);
    expect(await row(name)).toMatchObject({ holder: "b", active: true });
  });

  it("releases the lease when fn throws, and rethrows fn's error", async () => {
    const name = fresh();
    await expect(
      withLease(pool, name, { holder: "a", ttlMs: 5_000 }, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(await row(name)).toMatchObject({ holder: "a", active: false });
  });

  it("aborts the signal when the lease is stolen, refuses the old token's writes, and rejects with LeaseLostError", async () => {
    const name = fresh();
    let abortedAfterMs = Number.NaN;
    let lateWrite: unknown = "not attempted";
    const run = withLease(pool, name, { holder: "a", ttlMs: 300 }, async (_token, signal, lease) => {
      await expire(name);
      expect(await acquireLease(pool, name, { holder: "b", ttlMs: 5_000 })).not.toBeNull();
      const stolenAt = performance.now();
      // The next renewal (every 100 ms) finds the lease lost; bounded wait.
      await untilAborted(signal, 1_000);
      abortedAfterMs = performance.now() - stolenAt;
      expect(lease.isHeld()).toBe(false);
      lateWrite = await runFenced(pool, lease, insertUnder(lease, "late"));
      return "finished anyway";
    });
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as LeaseLostError).reason).toBe("lost");
    expect(abortedAfterMs).toBeLessThan(300);
    expect(lateWrite).toBeNull();
    expect(await writes(name)).toEqual([]);
    expect(await row(name)).toMatchObject({ holder: "b", token: "2", active: true }); // a's release did not touch it
  });

  it("aborts before the lease would expire when renewals cannot reach the database", async () => {
    const name = fresh();
    // A pool whose connection is lost after the acquisition: every later query hangs.
    let calls = 0;
    const cutOff = {
      query: (...args: Parameters<pg.Pool["query"]>) => (calls++ === 0 ? pool.query(...args) : new Promise(() => {})),
    } as unknown as pg.Pool;
    // A fake clock: the deadline is the lease's own arithmetic, checked to the millisecond; on the
    // real clock a loaded machine's late timer (>100 ms here) was measured instead.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    try {
      const started = performance.now();
      let reason: unknown;
      let abortedAt = Number.NaN;
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const run = withLease(cutOff, name, { holder: "a", ttlMs: 1_000 }, async (_token, signal) => {
        entered();
        await untilAborted(signal, 3_000);
        abortedAt = performance.now() - started;
        reason = signal.reason;
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      // The acquisition is real I/O, during which the fake clock stands still.
      await inside;
      await vi.advanceTimersByTimeAsync(3_000);
      const error = await run;
      expect(reason).toBeInstanceOf(LeaseLostError);
      expect((reason as LeaseLostError).reason).toBe("unconfirmed");
      expect(error).toBe(reason);
      // Exactly at the local estimate of the expiry, the safety margin before the database's.
      expect(abortedAt).toBe(1_000 - safetyMarginMs(1_000));
      expect(calls).toBeGreaterThan(1); // it did try to renew
    } finally {
      vi.useRealTimers();
    }
    // The row still names a (the release could not get through) until it expires by itself.
    expect(await row(name)).toMatchObject({ holder: "a", token: "1" });
  });

  it("retries failing renewals and aborts with the last error as the cause when none succeeds in time", async () => {
    const name = fresh();
    let calls = 0;
    const failing = {
      query: (...args: Parameters<pg.Pool["query"]>) =>
        calls++ === 0 ? pool.query(...args) : Promise.reject(new Error("connection refused")),
    } as unknown as pg.Pool;
    const errors: string[] = [];
    let reason: unknown;
    const outcome = withLease(
      failing,
      name,
      { holder: "a", ttlMs: 300, onError: (_e, during) => errors.push(during) },
      async (_t, signal) => {
        await untilAborted(signal, 2_000);
        reason = signal.reason;
      },
    );
    await expect(outcome).rejects.toBeInstanceOf(LeaseLostError);
    expect((reason as LeaseLostError).reason).toBe("unconfirmed");
    expect(((reason as LeaseLostError).cause as Error).message).toBe("connection refused");
    expect(errors.filter((e) => e === "renew").length).toBeGreaterThanOrEqual(2);
    expect(errors.at(-1)).toBe("release");
  });
});
