// Builds the Fastify application: request ids, structured logs, data-plane metrics, the error
// mapper, and the drain behaviour. Feature modules register their routes on it.
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { InstanceState } from "../process/lifecycle";
import type { GatewayEndpoint } from "../metrics/gateway";
import { httpRequestDuration, httpRequestsTotal } from "../metrics/http";
import { dataPlaneErrorHandler } from "./errors";

export interface AppOptions {
  state: InstanceState;
  instanceId: string;
  logger: Logger;
  bodyLimitBytes?: number;
  /** Whose X-Forwarded-For to believe for request.ip (config TRUSTED_PROXIES); false: the socket's peer. */
  trustProxy?: string[] | number | false;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Log one access line per request (API routes; probes and scrapes would drown the log). */
    accessLog?: boolean;
    /** The API endpoint a data-plane route serves (chat, responses, …), named in its access line. */
    endpoint?: GatewayEndpoint;
    /** Leave the request out of agenticorp_http_* metrics (the Next.js hand-off). */
    untracked?: boolean;
  }
}

const VALID_REQUEST_ID = /^[\w.:-]{1,128}$/;

function requestId(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && VALID_REQUEST_ID.test(given) ? given : randomUUID();
}

export function buildApp({
  state,
  instanceId,
  logger,
  bodyLimitBytes = 1_048_576,
  trustProxy = false,
}: AppOptions): FastifyInstance {
  const app = Fastify({
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- it sets Fastify's logger type parameter
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: requestId,
    // request.log is the process logger itself: a child logger per request cost more than the
    // few lines that use it, which name the request id themselves.
    childLoggerFactory: (parent) => parent,
    // Probes and metrics scrapes would drown the log; API routes opt in with config.accessLog.
    logController: new LogController({ requestIdLogLabel: "request_id", disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
    // Fastify's types take no hop count, proxy-addr's function form says the same thing.
    trustProxy: typeof trustProxy === "number" ? (_address: string, hop: number) => hop < trustProxy : trustProxy,
    // Longer than any balancer's upstream keep-alive, so the balancer closes idle sockets first
    // (closing one while the balancer sends on it loses that request).
    keepAliveTimeout: 65_000,
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
  });

  // Every HTTP request counts in flight (data plane and console), so drain can wait for all.
  // Counted before Fastify's own listener runs: with callback hooks a handler can run (and read
  // the count, as /metrics does) before a listener added after Fastify's would be called.
  const requestEnded = () => state.inFlight--;
  app.server.prependListener("request", (_req, res) => {
    state.inFlight++;
    res.on("close", requestEnded);
  });

  // The hooks take callbacks rather than being async: a promise per hook per request shows in
  // the gateway's throughput.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    reply.header("x-agenticorp-instance", instanceId);
    done();
  });

  // Decided when the response goes out, so requests that began before SIGTERM close too.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (state.draining) reply.header("connection", "close");
    done(null, payload);
  });

  // The access line's fields are fixed and hold no secrets, so it skips the redaction pass,
  // which doubled the cost of every line.
  const accessLog = logger.child({}, { redact: [] });
  app.addHook("onResponse", (request, reply, done) => {
    // routeOptions builds a new object on every read: read it once. config.url is the route template.
    const { config } = request.routeOptions;
    if (!config.untracked) {
      const route = config.url ?? "unmatched";
      httpRequestsTotal.inc({ route, method: request.method, status: String(reply.statusCode) });
      httpRequestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
      if (config.accessLog) {
        accessLog.info(
          {
            request_id: request.id,
            method: request.method,
            route,
            endpoint: config.endpoint,
            // A Batch API line run by this instance's worker (absent on live requests).
            batch: (request as { batchRequest?: boolean }).batchRequest || undefined,
            status: reply.statusCode,
            duration_ms: Math.round(reply.elapsedTime * 100) / 100,
          },
          "request completed",
        );
      }
    }
    done();
  });

  app.setErrorHandler(dataPlaneErrorHandler);
  return app;
}
