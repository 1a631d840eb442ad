// The credential a batch job's request carries into this instance's own API (Fastify inject, no network):
// a random per-process token and the owning key's id. The token never leaves the process, so no client can
// forge it; the key's secret is never needed (keys are stored only as hashes). Requests carrying it are
// batch requests: their own rate-limit budget class and metrics.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

const BATCH_TOKEN_HEADER = "x-agenticorp-batch-token";
const BATCH_KEY_HEADER = "x-agenticorp-batch-key";

const token = randomBytes(32);
const tokenText = token.toString("base64url");

/** Headers that make an injected request a batch request of `keyId`. */
export function batchRequestHeaders(keyId: string): Record<string, string> {
  return { [BATCH_TOKEN_HEADER]: tokenText, [BATCH_KEY_HEADER]: keyId };
}

/**
 * The key id of a genuine batch request; undefined when the request carries no batch token. A request
 * carrying a wrong token is refused outright (it is no client's business to send one).
 */
export function batchKeyId(headers: IncomingHttpHeaders): string | undefined | false {
  const given = headers[BATCH_TOKEN_HEADER];
  if (given === undefined) return undefined;
  if (typeof given !== "string") return false;
  const bytes = Buffer.from(given, "base64url");
  if (bytes.length !== token.length || !timingSafeEqual(bytes, token)) return false;
  const keyId = headers[BATCH_KEY_HEADER];
  return typeof keyId === "string" && keyId ? keyId : false;
}

/**
 * The rate limiter's key for a key's batch budget class: a UUID derived from the key's own (the limiter's
 * windows are keyed by UUID), so batch requests count against a budget of their own, never the live one.
 */
export function batchBudgetId(keyId: string): string {
  // Flipping the variant nibble keeps it a valid UUID that no generated key id (variant 8-b) can equal.
  return `${keyId.slice(0, 19)}c${keyId.slice(20)}`;
}
