// Console sessions for tests that call the route handlers directly: the same JWT next-auth
// issues at sign-in (lib/control-plane/auth/options.ts puts sub, email, role and loginAt in it), as a cookie.
import { encode } from "next-auth/jwt";
import { SESSION_MAX_AGE_SECONDS, sessionSecret } from "../../lib/control-plane/auth/session";

export interface SessionUser {
  id: string;
  email: string;
  role: "admin" | "operator";
}

export async function sessionCookie(user: SessionUser, loginAt = Math.floor(Date.now() / 1000)): Promise<string> {
  const token = await encode({
    token: { sub: user.id, email: user.email, name: null, role: user.role, loginAt },
    secret: sessionSecret(),
    maxAge: SESSION_MAX_AGE_SECONDS,
  });
  return `next-auth.session-token=${token}`;
}
