// The sign-in check behind the credentials provider: throttled per client address and per email
// (lib/control-plane/auth/login-throttle.ts), the same answer and about the same time for an unknown email as
// for a wrong password, disabled users refused. The whole check runs inside a per-process gate,
// so a flood of sign-ins holds at most LOGIN_HASH_CONCURRENCY Argon2 hashes and as many database
// connections (the pool the data plane uses too), and the overflow is refused at once.
import "server-only";
import { getConfig } from "../../platform/config";
import type { PrismaClient } from "../../platform/db/generated/client";
import { findUserForLogin, normaliseEmail } from "../users/users";
import type { Role } from "./permissions";
import { HashGate, HashGateFull } from "./hash-gate";
import {
  type LoginAllowance,
  type LoginAttempt,
  type LoginLimit,
  recordLoginSuccess,
  reserveLoginAttempt,
} from "./login-throttle";
import { verifyDecoy, verifyPassword } from "./passwords";

export class LoginRefused extends Error {
  override name = "LoginRefused";
}

export const WRONG_CREDENTIALS = "Incorrect email or password.";
export const ACCOUNT_DISABLED = "This account is disabled. Ask an administrator to enable it.";
export const SIGN_IN_BUSY = "Too many sign-ins are being checked right now. Try again in a few seconds.";

const REFUSALS: Record<LoginLimit, string> = {
  email_from_address: "Too many failed sign-in attempts for this email",
  address: "Too many failed sign-in attempts from your network",
  email: "Too many failed sign-in attempts for this email from new places. Sign in from a place you used before, or",
};

export interface AuthenticatedUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
}

// One gate per process, shared with the Next.js bundle's copy of this module (sign-in runs there).
const holder = globalThis as typeof globalThis & { __agenticorpLoginHashGate?: HashGate };

function loginHashGate(): HashGate {
  return (holder.__agenticorpLoginHashGate ??= new HashGate({
    concurrency: getConfig().LOGIN_HASH_CONCURRENCY,
    maxQueued: getConfig().LOGIN_HASH_QUEUE,
  }));
}

function refusal(allowance: LoginAllowance): LoginRefused {
  const minutes = Math.ceil(allowance.retryAfterSeconds / 60);
  const again = `try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`;
  const reason = REFUSALS[allowance.limitedBy!];
  return new LoginRefused(
    allowance.limitedBy === "email" ? `${reason} ${again}` : `${reason}. ${again[0]!.toUpperCase()}${again.slice(1)}`,
  );
}

export interface AuthenticateOptions {
  /** The client's address (lib/control-plane/auth/client-address.ts). */
  address: string;
  /** Bounds the Argon2 work (default: the process's gate, sized by LOGIN_HASH_CONCURRENCY and LOGIN_HASH_QUEUE). */
  gate?: HashGate;
}

export async function authenticateCredentials(
  prisma: PrismaClient,
  rawEmail: string,
  password: string,
  options: AuthenticateOptions,
): Promise<AuthenticatedUser> {
  const email = normaliseEmail(rawEmail);
  if (!email || !password || email.length > 254 || password.length > 256) throw new LoginRefused(WRONG_CREDENTIALS);
  try {
    return await (options.gate ?? loginHashGate()).run(() =>
      checkCredentials(prisma, { email, address: options.address }, password),
    );
  } catch (error) {
    if (error instanceof HashGateFull) throw new LoginRefused(SIGN_IN_BUSY);
    throw error;
  }
}

async function checkCredentials(prisma: PrismaClient, attempt: LoginAttempt, password: string): Promise<AuthenticatedUser> {
  const allowance = await reserveLoginAttempt(prisma, attempt);
  if (!allowance.allowed) throw refusal(allowance);
  const user = await findUserForLogin(prisma, attempt.email);
  const matches = user ? await verifyPassword(user.passwordHash, password) : await verifyDecoy(password).then(() => false);
  if (!user || !matches) throw new LoginRefused(WRONG_CREDENTIALS);
  // Checked after the password, so that only the account's owner learns it is disabled.
  if (user.disabledAt) throw new LoginRefused(ACCOUNT_DISABLED);
  await recordLoginSuccess(prisma, attempt, allowance);
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}
