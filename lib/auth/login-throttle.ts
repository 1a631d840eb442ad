// Failed sign-ins are limited per email across the whole fleet: the counter lives in PostgreSQL.
// An attempt is counted before the password is checked (one atomic statement, so concurrent
// guesses on several instances cannot slip past the limit) and a success resets the counter.
import type { PrismaClient } from "../db/generated/client";

export const LOGIN_MAX_ATTEMPTS = 5;
export const LOGIN_WINDOW_SECONDS = 15 * 60;

export interface LoginAllowance {
  allowed: boolean;
  /** Seconds until the window ends and attempts are allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

export async function reserveLoginAttempt(prisma: PrismaClient, email: string): Promise<LoginAllowance> {
  const rows = await prisma.$queryRaw<Array<{ attempts: number; retry_after: number }>>`
    INSERT INTO login_throttle AS t (email, attempts, window_start) VALUES (${email}, 1, now())
    ON CONFLICT (email) DO UPDATE SET
      attempts = CASE WHEN t.window_start <= now() - make_interval(secs => ${LOGIN_WINDOW_SECONDS}) THEN 1 ELSE t.attempts + 1 END,
      window_start = CASE WHEN t.window_start <= now() - make_interval(secs => ${LOGIN_WINDOW_SECONDS}) THEN now() ELSE t.window_start END
    RETURNING attempts,
      ceil(extract(epoch FROM window_start + make_interval(secs => ${LOGIN_WINDOW_SECONDS}) - now()))::int AS retry_after`;
  const row = rows[0]!;
  const allowed = row.attempts <= LOGIN_MAX_ATTEMPTS;
  return { allowed, retryAfterSeconds: allowed ? 0 : Math.max(1, row.retry_after) };
}

export async function clearLoginAttempts(prisma: PrismaClient, email: string): Promise<void> {
  await prisma.loginThrottle.deleteMany({ where: { email } });
}
