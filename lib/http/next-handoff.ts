// Hands every request Fastify does not route itself to Next.js (pages, next-auth, console API).
// Registered in its own encapsulated context with no body parsers, so Next reads the raw body.
import type { FastifyInstance } from "fastify";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CLIENT_ADDRESS_HEADER, throttleAddress } from "../auth/client-address";

export type NextRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export async function nextHandoff(app: FastifyInstance, { handle }: { handle: NextRequestHandler }) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  app.route({
    method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: "/*",
    config: { untracked: true },
    handler: async (request, reply) => {
      reply.hijack();
      // request.ip follows TRUSTED_PROXIES; a client's own header of this name is overwritten.
      request.raw.headers[CLIENT_ADDRESS_HEADER] = throttleAddress(request.ip);
      // Headers set by hooks (request id, instance) live on the Fastify reply; copy them over.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value as string);
      }
      await handle(request.raw, reply.raw);
    },
  });
}
