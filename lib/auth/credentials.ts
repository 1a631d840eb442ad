// The sign-in check behind the credentials provider: throttled per email, the same answer and
// about the same time for an unknown email as for a wrong password, disabled users refused.
import type { PrismaClient } from "../db/generated/client";
import { findUserForLogin, normaliseEmail } from "../users/users";
import type { Role } from "./permissions";
import { clearLoginAttempts, reserveLoginAttempt } from "./login-throttle";
import { verifyDecoy, verifyPassword } from "./passwords";

export class LoginRefused extends Error {
  override name = "LoginRefused";
}

export const WRONG_CREDENTIALS = "Incorrect email or password.";
export const ACCOUNT_DISABLED = "This account is disabled. Ask an administrator to enable it.";

export interface AuthenticatedUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
}

export async function authenticateCredentials(prisma: PrismaClient, rawEmail: string, password: string): Promise<AuthenticatedUser> {
  const email = normaliseEmail(rawEmail);
  if (!email || !password || email.length > 254 || password.length > 256) throw new LoginRefused(WRONG_CREDENTIALS);
  const allowance = await reserveLoginAttempt(prisma, email);
  if (!allowance.allowed) {
    const minutes = Math.ceil(allowance.retryAfterSeconds / 60);
    throw new LoginRefused(`Too many failed sign-in attempts for this email. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`);
  }
  const user = await findUserForLogin(prisma, email);
  if (!user) {
    await verifyDecoy(password);
    throw new LoginRefused(WRONG_CREDENTIALS);
  }
  if (!(await verifyPassword(user.passwordHash, password))) throw new LoginRefused(WRONG_CREDENTIALS);
  // Checked after the password, so that only the account's owner learns it is disabled.
  if (user.disabledAt) throw new LoginRefused(ACCOUNT_DISABLED);
  await clearLoginAttempts(prisma, email);
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
