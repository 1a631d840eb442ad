// The headers that keep a hostile page from framing, sniffing or scripting the console. Set on
// every response Fastify hands to Next.js (pages, console JSON, next-auth), not on the data plane.
import { randomBytes } from "node:crypto";

export interface ConsoleSecurityHeaders {
  /** The script nonce of this response's policy: Next.js reads it from the request's own header. */
  nonce: string;
  headers: Record<string, string>;
}

/**
 * Scripts run only with this response's nonce ('strict-dynamic' extends it to the chunks Next's
 * nonce'd scripts load); no inline script otherwise, no eval (except for Next's dev server), no
 * plugins, no <base> rewrite, no framing, forms post only here. Style attributes stay allowed:
 * React and the charts write them, and they cannot run code.
 */
function contentSecurityPolicy(nonce: string, { dev = false } = {}): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function consoleSecurityHeaders({ https, dev = false }: { https: boolean; dev?: boolean }): ConsoleSecurityHeaders {
  const nonce = randomBytes(16).toString("base64");
  const headers: Record<string, string> = {
    "content-security-policy": contentSecurityPolicy(nonce, { dev }),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
  };
  // Only over https: a browser ignores it over http, and sent over http it would say nothing true.
  if (https) headers["strict-transport-security"] = "max-age=31536000";
  return { nonce, headers };
}
