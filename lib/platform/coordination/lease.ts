// Distributed leases with fencing tokens, one row of `leases` per lease (ARCHITECTURE.md,
// decision 4). Every operation here is a single statement or a single transaction and uses no
// session state (no session advisory locks, no SET, no LISTEN, no named prepared statements), so
// it is correct through PgBouncer in transaction pooling mode.
//
// Time: only the database's clock decides whether a lease has expired; no client timestamp is
// ever compared with a database one. The holder keeps a second, purely local and conservative
// estimate — `validUntil`, on its monotonic clock — of when it must stop trusting a lease it has
// not been able to renew: the moment it *sent* the acquiring or renewing statement, plus the TTL,
// minus a safety margin. The database computed the expiry from a later instant (its clock when
// the statement ran), so while the local estimate says "held", the row says so too.
//
// Tokens: a lease's token grows by one on every acquisition — by another holder, after expiry,
// and also when a holder acquires again a lease it still holds — and is never reused: release
// expires the row instead of deleting it, so the next acquisition continues from the last token.
// Bumping on re-acquisition too means a token names one acquisition, not one holder: a restarted
// process reusing its holder id fences off its predecessor's late writes, and a late release or
// renewal of an earlier acquisition (say, one that withLease stopped waiting for) cannot touch the
// new one.
import type pg from "pg";
import { withClient } from "../db/with-client";

/** A lease as its holder knows it. Immutable: renewing returns a new value. */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  readonly token: bigint;
  readonly ttlMs: number;
  /** `performance.now()` until which the lease is certainly still held (see the file header). */
  readonly validUntil: number;
}

/** What a fenced write needs to prove it runs under the current lease. */
export type Fence = Pick<Lease, "name" | "holder" | "token">;

export interface LeaseOptions {
  /**
   * Identifies one contender, e.g. the instance id. A holder may take back an unexpired lease it
   * holds (after a restart, say); that is a new acquisition with a new token, so the earlier one is
   * lost from then on.
   */
  holder: string;
  /** How long the lease lasts without renewal, in milliseconds. */
  ttlMs: number;
}

export type LeaseLostReason =
  /** The database says this token is no longer current: the lease expired or another holder took it. */
  | "lost"
  /** No renewal was confirmed before the local estimate of the expiry. */
  | "unconfirmed";

/** The reason a `withLease` signal aborts with, and what `withLease` rejects with after a loss. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(
    readonly lease: string,
    readonly reason: LeaseLostReason,
    options?: { cause?: unknown },
  ) {
    super(
      reason === "lost"
        ? `Lease ${lease} was lost: it expired or another holder took it`
        : `Lease ${lease} could not be renewed before it would have expired`,
      options,
    );
  }
}

/** A write under a lease was refused because the lease's token is no longer current. */
export class FencedWriteRefused extends Error {
  override name = "FencedWriteRefused";
  constructor(readonly fence: Fence) {
    super(`Write refused: lease ${fence.name} token ${fence.token} held by ${fence.holder} is no longer current`);
  }
}

const MAX_TTL_MS = 24 * 60 * 60 * 1000;

function checkOptions({ holder, ttlMs }: LeaseOptions): void {
  if (!holder) throw new TypeError("A lease holder must be a non-empty string");
  if (!Number.isInteger(ttlMs) || ttlMs < 10 || ttlMs > MAX_TTL_MS) {
    throw new RangeError(`A lease TTL must be an integer from 10 to ${MAX_TTL_MS} ms (got ${ttlMs})`);
  }
}

/**
 * How much earlier than the database the holder gives a lease up: covers the millisecond
 * rounding of `expires_at` (timestamptz(3)) and timer lateness. A tenth of the TTL, 1 ms to 1 s.
 */
export function safetyMarginMs(ttlMs: number): number {
  return Math.max(1, Math.min(ttlMs / 10, 1000));
}

function held(name: string, holder: string, token: unknown, ttlMs: number, sentAt: number): Lease {
  return { name, holder, token: BigInt(String(token)), ttlMs, validUntil: sentAt + ttlMs - safetyMarginMs(ttlMs) };
}

// One statement decides atomically. A conflicting row is taken over only when it has expired or
// is held by the same holder; ON CONFLICT re-reads the latest committed row version under a row lock, so two
// racing contenders cannot both win. now() is this statement's start (each runs on its own), one
// instant for every expression in it; after a lock wait it is earlier than the real time, which
// only makes a steal less likely and the new expiry shorter — both on the safe side.
// The NOT EXISTS pre-check only skips attempts that the ON CONFLICT condition would refuse anyway
// (by a plain snapshot read, so at worst it skips one that a just-committed release would have
// let through, to be retried). It matters under contention: a refused ON CONFLICT still locks the
// row, which costs a transaction id and a WAL flush per attempt and queues behind the holder.
const ACQUIRE_SQL = `
INSERT INTO leases AS l (name, holder, token, expires_at, acquired_at)
SELECT $1, $2, 1, now() + $3::int * interval '1 millisecond', now()
WHERE NOT EXISTS (SELECT 1 FROM leases WHERE name = $1 AND holder <> $2 AND expires_at > now())
ON CONFLICT (name) DO UPDATE SET
  holder = EXCLUDED.holder,
  token = l.token + 1,
  acquired_at = EXCLUDED.acquired_at,
  expires_at = EXCLUDED.expires_at
WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder
RETURNING token`;

/** Takes the lease if it is free, expired or held by this same holder; null when another holder has it. */
export async function acquireLease(pool: pg.Pool, name: string, options: LeaseOptions): Promise<Lease | null> {
  return (await tryAcquireLease(pool, name, options)).lease;
}

// The same attempt, also reading (in the same statement, so at no extra transaction) how long the
// lease it could not take has left, by the database's clock. The subquery sees the row as it was
// before the attempt, which is the other holder's row whenever the attempt failed.
const TRY_ACQUIRE_SQL = `
WITH attempt AS (${ACQUIRE_SQL})
SELECT (SELECT token FROM attempt) AS token,
       (SELECT (extract(epoch FROM expires_at - now()) * 1000)::float8 FROM leases WHERE name = $1) AS expires_in_ms`;

export interface AcquireAttempt {
  /** The lease when taken; null when another holder has it. */
  lease: Lease | null;
  /** When not taken: milliseconds until the other holder's lease expires unless renewed. */
  heldForMs: number | null;
}

/**
 * Like acquireLease, and when the lease is held tells for how long: a contender can sleep until then
 * rather than ask again and again (forty followers asking every few seconds is most of an idle
 * fleet's load on PostgreSQL; see docs/operations.md, "Fleet size").
 */
export async function tryAcquireLease(pool: pg.Pool, name: string, options: LeaseOptions): Promise<AcquireAttempt> {
  checkOptions(options);
  const sentAt = performance.now();
  const { rows } = await pool.query<{ token: string | null; expires_in_ms: number | null }>(TRY_ACQUIRE_SQL, [
    name,
    options.holder,
    options.ttlMs,
  ]);
  const row = rows[0];
  if (row?.token != null) return { lease: held(name, options.holder, row.token, options.ttlMs, sentAt), heldForMs: null };
  return { lease: null, heldForMs: row?.expires_in_ms ?? null };
}

// Only the holder of the current, unexpired token extends: an expired lease is lost even if
// nobody has taken it yet, and its holder must acquire again (getting a new token).
const RENEW_SQL = `
UPDATE leases SET expires_at = now() + $4::int * interval '1 millisecond'
WHERE name = $1 AND holder = $2 AND token = $3::bigint AND expires_at > now()
RETURNING token`;

/** Extends the lease by its TTL; null when it was lost (expired, released or taken). */
export async function renewLease(pool: pg.Pool, lease: Lease): Promise<Lease | null> {
  const sentAt = performance.now();
  const { rows } = await pool.query(RENEW_SQL, [lease.name, lease.holder, lease.token.toString(), lease.ttlMs]);
  return rows.length === 1 ? held(lease.name, lease.holder, lease.token, lease.ttlMs, sentAt) : null;
}

// Expires rather than deletes, so the token sequence survives. One millisecond in the past stays
// in the past after rounding to timestamptz(3), so the next acquisition sees it as expired.
const RELEASE_SQL = `
UPDATE leases SET expires_at = LEAST(expires_at, now() - interval '1 millisecond')
WHERE name = $1 AND holder = $2 AND token = $3::bigint`;

/** Gives the lease up; false when this token was no longer the current one (nothing changed). */
export async function releaseLease(pool: pg.Pool, lease: Fence): Promise<boolean> {
  const { rowCount } = await pool.query(RELEASE_SQL, [lease.name, lease.holder, lease.token.toString()]);
  return rowCount === 1;
}

export interface LeaseState {
  holder: string;
  token: bigint;
  /** Whether the lease is unexpired by the database's clock (a released lease is expired). */
  active: boolean;
  /** Milliseconds until expiry by the database's clock; negative once expired. */
  expiresInMs: number;
}

/** The lease row as the database sees it now; null when it was never acquired. */
export async function readLease(pool: pg.Pool, name: string): Promise<LeaseState | null> {
  const { rows } = await pool.query<{ holder: string; token: string; active: boolean; expires_in_ms: number }>(
    `SELECT holder, token, expires_at > now() AS active,
            (extract(epoch FROM expires_at - now()) * 1000)::float8 AS expires_in_ms
     FROM leases WHERE name = $1`,
    [name],
  );
  const row = rows[0];
  return row ? { holder: row.holder, token: BigInt(row.token), active: row.active, expiresInMs: row.expires_in_ms } : null;
}

// ---------------------------------------------------------------------------------------------
// Fenced writes.
//
// The rule: a write made under a lease checks, in the database and in the same transaction as the
// write, that its token is still the current, unexpired one — and locks the lease row FOR SHARE
// while doing so. Why both: a holder can be paused (GC, a slow disk, a partition) after its last
// check and wake up to write after another holder has taken the lease; only a check at the
// storage, atomic with the write, refuses that late write. The share lock makes the check hold
// until commit: an acquisition (which must lock the row to change it) waits for the write to
// commit, and a write waits for a concurrent acquisition and then re-checks the newer row version
// and is refused. So every write committed under token t precedes every acquisition of t + 1.
// clock_timestamp() rather than now(): inside a caller's long transaction now() would be stale.
// ---------------------------------------------------------------------------------------------

/**
 * An SQL condition, true only while `fence` is the current unexpired lease, for embedding in one's
 * own statement: its parameters are `$first` (name), `$first+1` (holder) and `$first+2` (token),
 * in the order `fenceValues` gives them. Example:
 * `UPDATE t SET v = $1, token = $4 WHERE id = $2 AND ${fenceCondition(3)}` with
 * `[v, id, ...fenceValues(lease)]`; a rowCount of 0 then means refused (or no such row).
 */
export function fenceCondition(first: number): string {
  if (!Number.isInteger(first) || first < 1) throw new RangeError(`Bad first parameter number ${first}`);
  return `EXISTS (SELECT 1 FROM leases WHERE name = $${first} AND holder = $${first + 1} AND token = $${first + 2}::bigint AND expires_at > clock_timestamp() FOR SHARE)`;
}

/** The parameters for `fenceCondition`, in its order: name, holder, token. */
export function fenceValues(fence: Fence): [string, string, string] {
  return [fence.name, fence.holder, fence.token.toString()];
}

/**
 * Inside the caller's own transaction (after BEGIN, on the same client): proves the lease current
 * and holds that proof until commit, or throws FencedWriteRefused. Useless outside a transaction.
 */
export async function assertFence(client: pg.PoolClient, fence: Fence): Promise<void> {
  const { rowCount } = await client.query(`SELECT 1 AS ok WHERE ${fenceCondition(1)}`, fenceValues(fence));
  if (rowCount !== 1) throw new FencedWriteRefused(fence);
}

export interface SqlStatement {
  text: string;
  values?: readonly unknown[];
}

/**
 * `work` in one transaction that holds the proof that `fence` is the current lease until it
 * commits. Resolves to null, having written nothing, when it is not.
 */
export async function inFencedTransaction<T>(
  pool: pg.Pool,
  fence: Fence,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T | null> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      await assertFence(client, fence);
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      if (error instanceof FencedWriteRefused) return null;
      throw error;
    }
  });
}

/** Runs one write under `fence`: its result, or null when the lease is no longer current. */
export function runFenced<R extends pg.QueryResultRow = pg.QueryResultRow>(
  pool: pg.Pool,
  fence: Fence,
  statement: SqlStatement,
): Promise<pg.QueryResult<R> | null> {
  return inFencedTransaction(pool, fence, (client) =>
    client.query<R>(statement.text, statement.values ? [...statement.values] : undefined),
  );
}

// ---------------------------------------------------------------------------------------------
// withLease: acquire, keep renewed, give up the work when the lease cannot be kept, release.
// ---------------------------------------------------------------------------------------------

/** The lease inside `withLease`'s callback; usable as the `Fence` of a fenced write. */
export interface ActiveLease extends Fence {
  /** True while the lease is certainly held: not lost, and before the local expiry estimate. */
  isHeld(): boolean;
}

export interface WithLeaseOptions extends LeaseOptions {
  /** How often to renew, in ms; default a third of the TTL. */
  renewEveryMs?: number;
  /**
   * Told about renewal and release failures, which withLease otherwise absorbs: a failed renewal
   * is retried until the local expiry estimate (then the signal aborts), and a failed release
   * leaves the lease to expire by itself.
   */
  onError?: (error: unknown, during: "renew" | "release") => void;
}

/** Waits for `promise`, but no longer than `ms`; leaves no timer behind. */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `fn` while holding the lease `name`, renewing it in the background, and releases it after.
 * Resolves to null without calling `fn` when another holder has the lease (hence `fn` may not
 * return null itself: the two would be indistinguishable).
 *
 * `signal` aborts, with a LeaseLostError, as soon as a renewal finds the lease lost, or when no
 * renewal was confirmed before the lease would have expired by the local estimate; `fn` must then
 * stop. If the lease was lost before `fn` settled, withLease rejects with that LeaseLostError even
 * if `fn` resolved (its work ran partly unguarded); if `fn` rejects, its own error wins.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- {} is "any value but null", what T may be here
export async function withLease<T extends {} | undefined | void>(
  pool: pg.Pool,
  name: string,
  options: WithLeaseOptions,
  fn: (token: bigint, signal: AbortSignal, lease: ActiveLease) => Promise<T>,
): Promise<T | null> {
  const renewEveryMs = options.renewEveryMs ?? options.ttlMs / 3;
  if (!(renewEveryMs > 0 && renewEveryMs < options.ttlMs - safetyMarginMs(options.ttlMs))) {
    throw new RangeError(`renewEveryMs must be positive and well inside the TTL (got ${renewEveryMs})`);
  }
  const acquired = await acquireLease(pool, name, options);
  if (!acquired) return null;

  let current = acquired;
  let settled = false;
  let lastError: unknown;
  const controller = new AbortController();
  const lose = (reason: LeaseLostReason) => {
    if (!controller.signal.aborted) controller.abort(new LeaseLostError(name, reason, { cause: lastError }));
  };
  let deadlineTimer = setTimeout(() => lose("unconfirmed"), current.validUntil - performance.now());
  let renewTimer: NodeJS.Timeout | undefined;

  // One renewal in flight at a time; each schedules the next. A renewal that errors is retried
  // sooner; one that finds the lease lost ends the chain. Only a confirmed renewal moves the
  // deadline, and it moves it from the moment that renewal was sent.
  const renew = async () => {
    if (settled || controller.signal.aborted) return;
    let next = renewEveryMs;
    try {
      const renewed = await renewLease(pool, current);
      if (settled || controller.signal.aborted) return;
      if (!renewed) return lose("lost");
      current = renewed;
      clearTimeout(deadlineTimer);
      deadlineTimer = setTimeout(() => lose("unconfirmed"), current.validUntil - performance.now());
    } catch (error) {
      lastError = error;
      options.onError?.(error, "renew");
      next = renewEveryMs / 3;
    }
    if (!settled && !controller.signal.aborted) renewTimer = setTimeout(() => void renew(), next);
  };
  renewTimer = setTimeout(() => void renew(), renewEveryMs);

  const active: ActiveLease = {
    name,
    holder: acquired.holder,
    token: acquired.token,
    isHeld: () => !controller.signal.aborted && performance.now() < current.validUntil,
  };
  try {
    const value = await fn(acquired.token, controller.signal, active);
    if (controller.signal.aborted) throw controller.signal.reason;
    return value;
  } finally {
    settled = true;
    clearTimeout(renewTimer);
    clearTimeout(deadlineTimer);
    // A renewal still in flight cannot revive the lease after this: renewal needs an unexpired row.
    // The wait is bounded: past the lease's remaining time, releasing is moot.
    const release = releaseLease(pool, acquired).catch((error) => {
      options.onError?.(error, "release");
    });
    await waitAtMost(release, Math.max(0, current.validUntil - performance.now()));
  }
}
