// next-auth configuration: email and password against the users table, JWT sessions that end
// 8 h after sign-in, the console's own sign-in page.
import "server-only";
import type { AuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { getDatabase } from "../../platform/db/client";
import { safeCallbackPath } from "./callback-url";
import { authenticateCredentials, LoginRefused } from "./credentials";
import { SESSION_MAX_AGE_SECONDS, sessionSecret } from "./session";

const SIGN_IN_UNAVAILABLE = "Sign-in is unavailable right now. Try again shortly.";

/** Options per request: `secure` when the console is reached over https (cookie names and flags follow); `clientAddress` for sign-in throttling. */
export function buildAuthOptions({ secure, clientAddress }: { secure: boolean; clientAddress: string }): AuthOptions {
  return {
    secret: sessionSecret(),
    useSecureCookies: secure,
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
    jwt: { maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: "/login", error: "/login" },
    providers: [
      CredentialsProvider({
        id: "credentials",
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials) {
          try {
            return await authenticateCredentials(getDatabase().prisma, credentials?.email ?? "", credentials?.password ?? "", {
              address: clientAddress,
            });
          } catch (error) {
            // next-auth shows a thrown error's message on the sign-in page: only ours are meant for people.
            if (error instanceof LoginRefused) throw error;
            console.error(
              JSON.stringify({ level: 50, time: Date.now(), msg: "sign-in check failed", err: (error as Error).message }),
            );
            throw new Error(SIGN_IN_UNAVAILABLE);
          }
        },
      }),
    ],
    callbacks: {
      jwt({ token, user }) {
        if (user) {
          token.role = user.role;
          token.loginAt = Math.floor(Date.now() / 1000);
        }
        return token;
      },
      session({ session, token }) {
        return { ...session, user: { ...session.user, id: token.sub, role: token.role } };
      },
      // Every redirect next-auth makes (callbackUrl of sign-in and sign-out, its error page) stays on this site.
      redirect({ url, baseUrl }) {
        return new URL(safeCallbackPath(url, baseUrl), baseUrl).href;
      },
    },
  };
}
