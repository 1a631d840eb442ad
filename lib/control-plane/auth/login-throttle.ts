// Failed sign-ins are limited across the whole fleet (the counters live in PostgreSQL), on three
// keys, each in a fixed 15-minute window:
// - an email from one client address (5): the owner mistyping, or a guesser at one address;
// - a client address, whatever the email (20): bounds what one address can make the server hash;
// - an email from addresses it never signed in from (20): bounds guessing spread over many
//   addresses. An address the account signed in from within 30 days skips this one, so strangers
//   can lock an account out only for places its owner has not used lately.
// An attempt is counted before the password is checked (one atomic statement per counter, so
// concurrent guesses on several instances cannot slip past a limit); a counter that refused is not
// carried on to the next, so a blocked address cannot push an email's count. A success clears the
// pair, gives back the address's and the email's count, and marks the address as known-good.
// Expired rows are pruned on write: a bounded batch whenever an address starts a new window,
// which is as often as rows are created; the leader also prunes them (lib/platform/retention), so they go
// when sign-ins stop too.
import { Prisma, type PrismaClient } from "../../platform/db/generated/client";

const LOGIN_WINDOW_SECONDS = 15 * 60;
/** Failures allowed for one email from one client address per window. */
export const LOGIN_MAX_ATTEMPTS = 5;
/** Attempts allowed from one client address (any email) per window. */
export const LOGIN_MAX_ATTEMPTS_PER_ADDRESS = 20;
/** Failures allowed for one email, summed over the addresses it has not signed in from, per window. */
export const LOGIN_MAX_ATTEMPTS_PER_EMAIL = 20;
/** How long an address an account signed in from stays exempt from the per-email limit. */
const KNOWN_ADDRESS_DAYS = 30;
const PRUNE_BATCH = 500;

export type LoginLimit = "email_from_address" | "address" | "email";

export interface LoginAllowance {
  allowed: boolean;
  /** Which limit refused the attempt (null when allowed). */
  limitedBy: LoginLimit | null;
  /** Seconds until the window ends and attempts are allowed again (0 when allowed). */
  retryAfterSeconds: number;
  /** Whether the attempt counted against the email's limit (an unknown address): a success gives it back. */
  countedForEmail: boolean;
}

export interface LoginAttempt {
  /** Normalised email. */
  email: string;
  /** The client's address as lib/control-plane/auth/client-address.ts derives it. */
  address: string;
}

const keys = ({ email, address }: LoginAttempt) => ({
  pair: `pair:${email} ${address}`,
  address: `addr:${address}`,
  email: `email:${email}`,
  good: `good:${email} ${address}`,
});

interface Count {
  allowed: boolean;
  retryAfterSeconds: number;
  /** This attempt opened the counter's window. */
  first: boolean;
  /** Whether `knownKey` marks an address the account signed in from lately (false when not asked). */
  known: boolean;
}

/** Counts one attempt on `key`; with `knownKey`, also answers whether that mark is current, in the same statement. */
async function count(prisma: PrismaClient, key: string, limit: number, knownKey = ""): Promise<Count> {
  const rows = await prisma.$queryRaw<Array<{ attempts: number; retry_after: number; known: boolean }>>`
    INSERT INTO login_throttle AS t (key, attempts, window_start) VALUES (${key}, 1, now())
    ON CONFLICT (key) DO UPDATE SET
      attempts = CASE WHEN t.window_start <= now() - make_interval(secs => ${LOGIN_WINDOW_SECONDS}) THEN 1 ELSE t.attempts + 1 END,
      window_start = CASE WHEN t.window_start <= now() - make_interval(secs => ${LOGIN_WINDOW_SECONDS}) THEN now() ELSE t.window_start END
    RETURNING attempts,
      ceil(extract(epoch FROM window_start + make_interval(secs => ${LOGIN_WINDOW_SECONDS}) - now()))::int AS retry_after,
      EXISTS (SELECT 1 FROM login_throttle WHERE key = ${knownKey} AND window_start > now() - make_interval(days => ${KNOWN_ADDRESS_DAYS})) AS known`;
  const row = rows[0]!;
  const allowed = row.attempts <= limit;
  return { allowed, retryAfterSeconds: allowed ? 0 : Math.max(1, row.retry_after), first: row.attempts === 1, known: row.known };
}

/** Counters whose window has ended, and known-good marks older than KNOWN_ADDRESS_DAYS. */
export const LOGIN_THROTTLE_EXPIRED = Prisma.sql`window_start < now() - make_interval(secs => ${LOGIN_WINDOW_SECONDS})
  AND (key NOT LIKE 'good:%' OR window_start < now() - make_interval(days => ${KNOWN_ADDRESS_DAYS}))`;

/** Deletes expired counters and stale known-good marks, at most a batch per call; returns how many. */
async function pruneLoginThrottle(prisma: PrismaClient, batch = PRUNE_BATCH): Promise<number> {
  return prisma.$executeRaw`
    DELETE FROM login_throttle WHERE key IN (
      SELECT key FROM login_throttle WHERE ${LOGIN_THROTTLE_EXPIRED}
      ORDER BY window_start
      LIMIT ${batch})`;
}

export async function reserveLoginAttempt(prisma: PrismaClient, attempt: LoginAttempt): Promise<LoginAllowance> {
  const k = keys(attempt);
  const address = await count(prisma, k.address, LOGIN_MAX_ATTEMPTS_PER_ADDRESS, k.good);
  if (address.first) await pruneLoginThrottle(prisma);
  const refused = (by: LoginLimit, c: Count): LoginAllowance => ({
    allowed: false,
    limitedBy: by,
    retryAfterSeconds: c.retryAfterSeconds,
    countedForEmail: false,
  });
  if (!address.allowed) return refused("address", address);
  const pair = await count(prisma, k.pair, LOGIN_MAX_ATTEMPTS);
  if (!pair.allowed) return refused("email_from_address", pair);
  if (address.known) return { allowed: true, limitedBy: null, retryAfterSeconds: 0, countedForEmail: false };
  const email = await count(prisma, k.email, LOGIN_MAX_ATTEMPTS_PER_EMAIL);
  return email.allowed
    ? { allowed: true, limitedBy: null, retryAfterSeconds: 0, countedForEmail: true }
    : { ...refused("email", email), countedForEmail: true };
}

/** After a successful sign-in: only failures stay counted, and the address becomes known-good for the account. */
export async function recordLoginSuccess(prisma: PrismaClient, attempt: LoginAttempt, allowance: LoginAllowance): Promise<void> {
  const k = keys(attempt);
  const giveBack = allowance.countedForEmail ? [k.address, k.email] : [k.address];
  await prisma.$transaction([
    prisma.$executeRaw`DELETE FROM login_throttle WHERE key = ${k.pair}`,
    prisma.$executeRaw`UPDATE login_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = ANY(${giveBack})`,
    prisma.$executeRaw`
      INSERT INTO login_throttle (key, attempts, window_start) VALUES (${k.good}, 0, now())
      ON CONFLICT (key) DO UPDATE SET window_start = now()`,
  ]);
}
