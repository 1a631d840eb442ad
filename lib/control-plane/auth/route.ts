// The next-auth endpoints (/api/auth/*) for the App Router.
import "server-only";
import NextAuth from "next-auth";
import type { NextRequest } from "next/server";
import { clientAddressFromHeaders } from "./client-address";
import { toConsoleResponse } from "../console/errors";
import { crossSiteRefusal, isCrossSiteWrite } from "./cross-site";
import { buildAuthOptions } from "./options";

// The console runs on whatever address it is reached at (no NEXTAUTH_URL needed): next-auth v4
// reads this switch from the environment only, to take its origin from the Host header.
process.env.AUTH_TRUST_HOST ??= "true";

function isHttps(request: NextRequest): boolean {
  return request.nextUrl.protocol === "https:" || request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}

// GET|POST /api/auth/* — next-auth (csrf, providers, credentials callback, session, signout).
// Its own CSRF token guards sign-in and sign-out; refusing other sites' POSTs as the console
// routes do costs nothing and does not depend on it.
export async function authRouteHandler(
  request: NextRequest,
  context: { params: Promise<{ nextauth: string[] }> },
): Promise<Response> {
  if (isCrossSiteWrite(request.method, request.headers)) return toConsoleResponse(crossSiteRefusal());
  return (NextAuth as (...args: unknown[]) => Promise<Response>)(
    request,
    context,
    buildAuthOptions({ secure: isHttps(request), clientAddress: clientAddressFromHeaders(request.headers) }),
  );
}
