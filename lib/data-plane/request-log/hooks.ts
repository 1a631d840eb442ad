// Ties the request log to the data plane's HTTP requests: the pipeline opens a record per
// completion request (recordFor), an error before or outside the pipeline (a bad key, a body that
// is not JSON, a validation failure) opens one when it happens, and the response hook hands every
// record to RequestLog.requestFinished when the response is done, streams included.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { RequestRecord } from "./record";
import type { RequestLog } from "./request-log";

declare module "fastify" {
  interface FastifyRequest {
    /** This request's request-log record; null while none was opened (or the log is off). */
    requestLog: RequestRecord | null;
  }
}

/** A record for a request of `endpoint`, with the key that made it when one was recognised. */
export function recordFor(request: FastifyRequest, endpoint: string, log: Pick<RequestLog, "bodyMaxBytes">): RequestRecord {
  const record = new RequestRecord(endpoint);
  const key = request.apiKey;
  if (key) {
    record.keyId = key.id;
    record.keyName = key.name;
    record.captureBodies = key.captureBodies;
    record.captureMaxChars = log.bodyMaxBytes;
  }
  return record;
}

/** The model a client asked for, read from a body the pipeline never accepted. */
function askedModel(body: unknown): string | null {
  const model = (body as { model?: unknown } | null | undefined)?.model;
  return typeof model === "string" ? model.slice(0, 200) : null;
}

/** Registers the hooks on the gateway's routes (an encapsulated plugin: probes and the console are not logged). */
export function registerRequestLogHooks(app: FastifyInstance, log: RequestLog): void {
  app.decorateRequest("requestLog", null);
  // Only errors reach this hook, so reading the route's config (a new object per read) costs nothing on success.
  app.addHook("onError", (request, _reply, error, done) => {
    let record = request.requestLog;
    if (!record) {
      const { endpoint } = request.routeOptions.config;
      if (request.method !== "POST" || !endpoint) return done();
      record = request.requestLog = recordFor(request, endpoint, log);
    }
    // A body that failed validation still names the model it asked for.
    record.model ??= askedModel(request.body);
    record.failed(error);
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const record = request.requestLog;
    if (record) {
      // A response the client did not wait for is its 499, whatever status had been set.
      const status = reply.raw.writableFinished ? reply.statusCode : 499;
      log.requestFinished(record, {
        requestId: request.id,
        status,
        durationMs: reply.elapsedTime,
        clientIp: () => request.ip,
        requestBody: request.body,
      });
    }
    done();
  });
}
