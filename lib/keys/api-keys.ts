// Client API keys: generated here, shown once, stored only as a SHA-256 hash.
import { hash, randomBytes } from "node:crypto";
import { z } from "zod";
import type { PrismaClient } from "../db/generated/client";

const KEY_PREFIX = "ak-";

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(24).toString("base64url");
}

/** Keys carry 192 random bits, so a fast hash is enough (no salt or stretching needed). */
export function hashApiKey(key: string): string {
  return hash("sha256", key, "hex");
}

export const createApiKeyInput = z.object({
  name: z.string().trim().min(1, "name is required").max(100),
  rpmLimit: z.number().int().positive().max(1_000_000).nullable().default(null),
  allowedModels: z.array(z.string().trim().min(1).max(200)).max(100).default([]),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

export async function createApiKey(prisma: PrismaClient, input: CreateApiKeyInput) {
  const { name, rpmLimit, allowedModels } = createApiKeyInput.parse(input);
  const key = generateApiKey();
  const record = await prisma.apiKey.create({
    data: { name, rpmLimit, allowedModels, keyHash: hashApiKey(key), prefix: key.slice(0, KEY_PREFIX.length + 4) },
    omit: { keyHash: true },
  });
  return { key, record };
}

export async function revokeApiKey(prisma: PrismaClient, id: string) {
  return prisma.apiKey.update({ where: { id }, data: { revokedAt: new Date() }, omit: { keyHash: true } });
}
