// Reading the console session on the server: the next-auth JWT from the request's cookie, then
// the user's current row (so a disabled user or a changed role takes effect on the next request,
// not when the token expires). Guards: requireScope(session, "keys.write").
import "server-only";
import { createHmac } from "node:crypto";
import { decode } from "next-auth/jwt";
import { getConfig } from "../../platform/config";
import { getDatabase } from "../../platform/db/client";
import { ForbiddenError, UnauthorizedError } from "../../platform/errors";
import { findUser } from "../users/users";
import { hasScope, isRole, ROLE_SCOPES, type Role, type Scope } from "./permissions";

export const SESSION_MAX_AGE_SECONDS = 8 * 60 * 60;
/** next-auth's names: with the __Secure- prefix when the console is served over https. */
const SESSION_COOKIE_NAMES = ["__Secure-next-auth.session-token", "next-auth.session-token"] as const;

export interface ConsoleSession {
  userId: string;
  email: string;
  name: string | null;
  role: Role;
  scopes: Scope[];
  /** Unix milliseconds when the session ends. */
  expiresAt: number;
}

/** The session signing key, derived from SECRET so that the encryption key for credentials is never reused as is. */
export function sessionSecret(secret = getConfig().SECRET): string {
  if (!secret) throw new Error("SECRET is not set in this process");
  return createHmac("sha256", secret).update("agenticorp console sessions").digest("base64url");
}

export type CookieReader = (name: string) => string | undefined;

function cookieReaderFromHeader(header: string | null | undefined): CookieReader {
  const jar = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (!jar.has(name)) jar.set(name, safeDecode(part.slice(index + 1).trim()));
  }
  return (name) => jar.get(name);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** next-auth splits a token larger than a cookie can hold into name.0, name.1, … */
function sessionToken(read: CookieReader): string | undefined {
  for (const name of SESSION_COOKIE_NAMES) {
    const whole = read(name);
    if (whole) return whole;
    const chunks: string[] = [];
    for (let i = 0; i < 16; i++) {
      const chunk = read(`${name}.${i}`);
      if (chunk === undefined) break;
      chunks.push(chunk);
    }
    if (chunks.length > 0) return chunks.join("");
  }
  return undefined;
}

export async function readSession(read: CookieReader, now = Date.now()): Promise<ConsoleSession | null> {
  const token = sessionToken(read);
  if (!token) return null;
  let payload;
  try {
    payload = await decode({ token, secret: sessionSecret() });
  } catch {
    // Tampered, expired (exp is checked here) or signed with another SECRET: not signed in.
    return null;
  }
  if (!payload?.sub || typeof payload.loginAt !== "number") return null;
  const expiresAt = (payload.loginAt + SESSION_MAX_AGE_SECONDS) * 1000;
  if (expiresAt <= now) return null;
  const user = await findUser(getDatabase().prisma, payload.sub);
  if (!user || user.disabledAt || !isRole(user.role)) return null;
  // A password reset ends the sessions signed in before it (loginAt has whole seconds: a sign-in in the reset's second stays).
  if (user.passwordChangedAt && payload.loginAt < Math.floor(user.passwordChangedAt.getTime() / 1000)) return null;
  return { userId: user.id, email: user.email, name: user.name, role: user.role, scopes: ROLE_SCOPES[user.role], expiresAt };
}

export function readSessionFromRequest(request: Request): Promise<ConsoleSession | null> {
  return readSession(cookieReaderFromHeader(request.headers.get("cookie")));
}

/** Anonymous → 401; signed in without the scope → 403. */
export function requireScope(session: ConsoleSession | null, scope: Scope): asserts session is ConsoleSession {
  if (!session) throw new UnauthorizedError("Sign in to use the console.", { code: "unauthenticated" });
  if (!hasScope(session.role, scope)) {
    throw new ForbiddenError(`The ${session.role} role cannot do this (it needs the "${scope}" permission).`, {
      code: "missing_scope",
    });
  }
}
