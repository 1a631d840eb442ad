// Builds the Fastify application: request ids, structured logs, data-plane metrics, the error
// mapper, and the drain behaviour. Feature modules register their routes on it.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { InstanceState } from "../lifecycle";
import { httpRequestDuration, httpRequestsTotal } from "../metrics/http";
import { dataPlaneErrorHandler } from "./errors";

export interface AppOptions {
  state: InstanceState;
  instanceId: string;
  logger: FastifyServerOptions["loggerInstance"] | FastifyServerOptions["logger"];
  bodyLimitBytes?: number;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Log one access line per request (API routes; probes and scrapes would drown the log). */
    accessLog?: boolean;
    /** Leave the request out of agenticorp_http_* metrics (the Next.js hand-off). */
    untracked?: boolean;
  }
}

const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestId(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && VALID_REQUEST_ID.test(given) ? given : randomUUID();
}

export function buildApp({ state, instanceId, logger, bodyLimitBytes = 1_048_576 }: AppOptions): FastifyInstance {
  const app = Fastify({
    ...(logger && typeof logger === "object" && "child" in logger ? { loggerInstance: logger } : { logger: logger ?? false }),
    genReqId: requestId,
    // Probes and metrics scrapes would drown the log; API routes opt in with config.accessLog.
    logController: new LogController({ requestIdLogLabel: "request_id", disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
    // Longer than any balancer's upstream keep-alive, so the balancer closes idle sockets first
    // (closing one while the balancer sends on it loses that request).
    keepAliveTimeout: 65_000,
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
  });

  // Every HTTP request counts in flight (data plane and console), so drain can wait for all.
  app.server.on("request", (_req, res) => {
    state.inFlight++;
    res.once("close", () => state.inFlight--);
  });

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    reply.header("x-agenticorp-instance", instanceId);
  });

  // Decided when the response goes out, so requests that began before SIGTERM close too.
  app.addHook("onSend", async (_request, reply, payload) => {
    if (state.draining) reply.header("connection", "close");
    return payload;
  });

  app.addHook("onResponse", async (request, reply) => {
    const { config } = request.routeOptions;
    if (config.untracked) return;
    const route = request.routeOptions.url ?? "unmatched";
    httpRequestsTotal.inc({ route, method: request.method, status: String(reply.statusCode) });
    httpRequestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    if (!config.accessLog) return;
    request.log.info(
      { method: request.method, route, status: reply.statusCode, duration_ms: Math.round(reply.elapsedTime * 100) / 100 },
      "request completed",
    );
  });

  app.setErrorHandler(dataPlaneErrorHandler);
  return app;
}
