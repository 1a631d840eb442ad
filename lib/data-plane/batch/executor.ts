// Runs one batch line through this instance's own API route — the same pipeline as a live request
// (key checks, the key's batch budget class, cache, routing, retries, circuits, accounting) — by
// Fastify inject: no network, no HTTP to self. The request carries the process's batch credential.
import type { FastifyInstance } from "fastify";
import { batchRequestHeaders } from "./internal-auth";
import type { ClaimedJob } from "./queue";

export interface Execution {
  statusCode: number;
  requestId: string;
  body: unknown;
  /** Seconds to wait before trying again, from a 429's retry-after. */
  retryAfterSeconds: number | null;
}

export type Executor = (job: ClaimedJob) => Promise<Execution>;

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 1_000), type: "server_error", param: null, code: null } };
  }
}

export function injectExecutor(app: FastifyInstance): Executor {
  return async (job) => {
    // A batch answer is one JSON body: a line asking to stream is answered whole.
    const { stream: _stream, ...body } = job.body;
    const requestId = `batch_req_${job.id.padStart(12, "0")}_${job.attempt}`;
    const response = await app.inject({
      method: "POST",
      url: job.endpoint,
      headers: { ...batchRequestHeaders(job.keyId), "content-type": "application/json", "x-request-id": requestId },
      payload: JSON.stringify(body),
    });
    const retryAfter = Number(response.headers["retry-after"]);
    return {
      statusCode: response.statusCode,
      requestId: String(response.headers["x-request-id"] ?? requestId),
      body: parseBody(response.body),
      retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : null,
    };
  };
}
