// Bearer-key authentication against the in-memory key table (no database round trip).
import { UnauthorizedError } from "../errors";
import type { ApiKeyEntry, FleetSnapshot } from "../fleet/snapshot";
import { hashApiKey } from "../keys/api-keys";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function authenticate(authorization: string | undefined, snapshot: FleetSnapshot): ApiKeyEntry {
  if (!authorization) {
    throw new UnauthorizedError("You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.", { code: "missing_api_key" });
  }
  const token = BEARER.exec(authorization)?.[1];
  const entry = token ? snapshot.keysByHash.get(hashApiKey(token)) : undefined;
  if (!entry) throw new UnauthorizedError("Incorrect API key provided, or the key was revoked.");
  return entry;
}
