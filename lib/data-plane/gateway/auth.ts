// Key authentication against the in-memory key table (no database round trip). The key comes as
// `Authorization: Bearer <key>` (OpenAI's clients) or `x-api-key: <key>` (Anthropic's).
import type { IncomingHttpHeaders } from "node:http";
import { UnauthorizedError } from "../../platform/errors";
import type { ApiKeyEntry, FleetSnapshot } from "../fleet-config/snapshot";
import { hashApiKey } from "../keys/api-keys";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

// Keys by id, built once per configuration snapshot (batch requests name their key by id).
const keysById = new WeakMap<FleetSnapshot, ReadonlyMap<string, ApiKeyEntry>>();

/** The key of a batch request (lib/data-plane/batch/internal-auth.ts); a key revoked since is refused like any. */
export function authenticateBatchKey(keyId: string, snapshot: FleetSnapshot): ApiKeyEntry {
  let byId = keysById.get(snapshot);
  if (!byId) {
    byId = new Map([...snapshot.keysByHash.values()].map((entry) => [entry.id, entry]));
    keysById.set(snapshot, byId);
  }
  const entry = byId.get(keyId);
  if (!entry) throw new UnauthorizedError("The batch's API key was revoked.");
  return entry;
}

export function authenticate(headers: IncomingHttpHeaders, snapshot: FleetSnapshot): ApiKeyEntry {
  const { authorization } = headers;
  const apiKeyHeader = headers["x-api-key"];
  if (!authorization && !apiKeyHeader) {
    throw new UnauthorizedError(
      "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.",
      { code: "missing_api_key" },
    );
  }
  const token =
    typeof apiKeyHeader === "string" && apiKeyHeader ? apiKeyHeader.trim() : authorization && BEARER.exec(authorization)?.[1];
  const entry = token ? snapshot.keysByHash.get(hashApiKey(token)) : undefined;
  if (!entry) throw new UnauthorizedError("Incorrect API key provided, or the key was revoked.");
  return entry;
}
