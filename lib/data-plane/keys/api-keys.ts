// Client API keys' format: generated here, shown once, stored only as a SHA-256 hash. Creation and revocation
// (audited) live in lib/control-plane/keys/api-keys.ts, for the console and the CLIs alike.
import { hash, randomBytes } from "node:crypto";

const KEY_PREFIX = "ak-";
// "ak-" and four characters, enough to tell keys apart.
const KEY_PREFIX_SHOWN = KEY_PREFIX.length + 4;

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(24).toString("base64url");
}

/** Keys carry 192 random bits, so a fast hash is enough (no salt or stretching needed). */
export function hashApiKey(key: string): string {
  return hash("sha256", key, "hex");
}

/** The start of a key that is stored and shown, to tell keys apart. */
export function shownKeyPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX_SHOWN);
}
