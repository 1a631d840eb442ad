// Console password hashing: Argon2id (OWASP's recommended parameters, the library's defaults).
import { hash, verify } from "@node-rs/argon2";
import { z } from "zod";

export const passwordSchema = z.string().min(12, "must be at least 12 characters").max(256, "must be at most 256 characters");

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** Argon2 verifications running now, and the most that ever ran at once in this process. */
export const verificationStats = { running: 0, peak: 0 };

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  verificationStats.running++;
  verificationStats.peak = Math.max(verificationStats.peak, verificationStats.running);
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash matches nothing; it must not turn a login into a server error.
    return false;
  } finally {
    verificationStats.running--;
  }
}

let decoy: Promise<string> | undefined;

/** Spends the time of a real verification, so an unknown email answers as slowly as a wrong password. */
export async function verifyDecoy(password: string): Promise<void> {
  decoy ??= hash("decoy password that no account has");
  await verifyPassword(await decoy, password);
}
