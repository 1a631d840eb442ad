// Hands every request Fastify does not route itself to Next.js (pages, next-auth, console API),
// with the console's security headers. Registered in its own encapsulated context with no body
// parsers, so Next reads the raw body.
import type { FastifyInstance } from "fastify";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { consoleSecurityHeaders } from "./security-headers";

export type NextRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface NextHandoffOptions {
  handle: NextRequestHandler;
  /** Next's dev server needs eval and its websocket in the policy. */
  dev?: boolean;
  /** The header that tells Next.js the client's address (sign-in throttling counts by it), and its value for an IP. */
  clientAddress: { header: string; value: (ip: string) => string };
}

function servedOverHttps(req: IncomingMessage): boolean {
  const forwarded = req.headers["x-forwarded-proto"];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim();
  return proto === "https" || Boolean((req.socket as TLSSocket).encrypted);
}

export async function nextHandoff(app: FastifyInstance, { handle, dev = false, clientAddress }: NextHandoffOptions) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: "/*",
    config: { untracked: true },
    handler: async (request, reply) => {
      reply.hijack();
      // request.ip follows TRUSTED_PROXIES; a client's own header of this name is overwritten.
      request.raw.headers[clientAddress.header] = clientAddress.value(request.ip);
      // Headers set by hooks (request id, instance) live on the Fastify reply; copy them over.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value);
      }
      const security = consoleSecurityHeaders({ https: servedOverHttps(request.raw), dev });
      for (const [name, value] of Object.entries(security.headers)) reply.raw.setHeader(name, value);
      // Next.js takes the nonce for its own scripts from the request's policy header; whatever
      // a client sent there is replaced.
      request.raw.headers["content-security-policy"] = security.headers["content-security-policy"];
      delete request.raw.headers["content-security-policy-report-only"];
      await handle(request.raw, reply.raw);
    },
  });
}
