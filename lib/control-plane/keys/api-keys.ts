// Client API keys' creation and revocation: the one place for the console and the CLIs alike, each audited in its
// transaction. The key format and hash are the data plane's (lib/data-plane/keys/api-keys.ts).
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import { ConflictError, NotFoundError } from "../../platform/errors";
import { generateApiKey, hashApiKey, shownKeyPrefix } from "../../data-plane/keys/api-keys";
import { type Actor, recordAudit, SYSTEM_ACTOR } from "../audit/audit";

export const createApiKeyInput = z.object({
  name: z.string().trim().min(1, "name is required").max(100),
  rpmLimit: z.number().int().positive().max(1_000_000).nullable().default(null),
  /** Tokens (prompt + completion) per minute, fleet-wide. */
  tpmLimit: z.number().int().positive().max(1_000_000_000).nullable().default(null),
  /** USD per calendar day / month (USAGE_TIME_ZONE), fleet-wide. */
  budgetDailyUsd: z.number().positive().max(1_000_000_000).nullable().default(null),
  budgetMonthlyUsd: z.number().positive().max(1_000_000_000).nullable().default(null),
  allowedModels: z.array(z.string().trim().min(1).max(200)).max(100).default([]),
});
export type CreateApiKeyInput = z.input<typeof createApiKeyInput>;

/** What may be shown and audited of a key: never the key or its hash. */
export const apiKeyColumns = {
  id: true,
  name: true,
  prefix: true,
  rpmLimit: true,
  tpmLimit: true,
  budgetDailyUsd: true,
  budgetMonthlyUsd: true,
  allowedModels: true,
  captureBodies: true,
  createdAt: true,
  revokedAt: true,
} as const;
export type ApiKeyRecord = Prisma.ApiKeyGetPayload<{ select: typeof apiKeyColumns }>;

/** Creates a key; the value is returned once and stored nowhere. `actor`: who the audit log names (programmatic callers: system). */
export async function createApiKey(
  prisma: PrismaClient,
  input: CreateApiKeyInput,
  actor: Actor = SYSTEM_ACTOR,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const { name, rpmLimit, tpmLimit, budgetDailyUsd, budgetMonthlyUsd, allowedModels } = createApiKeyInput.parse(input);
  const key = generateApiKey();
  const record = await prisma.$transaction(async (tx) => {
    const created = await tx.apiKey.create({
      data: {
        name,
        rpmLimit,
        tpmLimit,
        budgetDailyUsd,
        budgetMonthlyUsd,
        allowedModels,
        keyHash: hashApiKey(key),
        prefix: shownKeyPrefix(key),
      },
      select: apiKeyColumns,
    });
    await recordAudit(tx, actor, { action: "key.create", targetType: "api_key", targetId: created.id, after: created });
    return created;
  });
  return { key, record };
}

/** Revokes a key: every instance stops accepting it within about a second. */
export async function revokeApiKey(prisma: PrismaClient, id: string, actor: Actor = SYSTEM_ACTOR): Promise<ApiKeyRecord> {
  return prisma.$transaction(async (tx) => {
    const before = await tx.apiKey.findUnique({ where: { id }, select: apiKeyColumns });
    if (!before) throw new NotFoundError("No API key with this id.");
    if (before.revokedAt) throw new ConflictError("This key is already revoked.");
    const after = await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() }, select: apiKeyColumns });
    await recordAudit(tx, actor, { action: "key.revoke", targetType: "api_key", targetId: after.id, before, after });
    return after;
  });
}

export const keyCaptureInput = z.object({ captureBodies: z.boolean({ message: "captureBodies must be true or false" }) });
export type KeyCaptureInput = z.infer<typeof keyCaptureInput>;

/** Turns the request log's body capture on or off for a key; every instance follows within about a second. */
export async function setApiKeyCapture(
  prisma: PrismaClient,
  id: string,
  input: KeyCaptureInput,
  actor: Actor = SYSTEM_ACTOR,
): Promise<ApiKeyRecord> {
  const { captureBodies } = keyCaptureInput.parse(input);
  return prisma.$transaction(async (tx) => {
    const before = await tx.apiKey.findUnique({ where: { id }, select: apiKeyColumns });
    if (!before) throw new NotFoundError("No API key with this id.");
    if (before.revokedAt) throw new ConflictError("This key is revoked.");
    const after = await tx.apiKey.update({ where: { id }, data: { captureBodies }, select: apiKeyColumns });
    await recordAudit(tx, actor, { action: "key.capture_bodies", targetType: "api_key", targetId: after.id, before, after });
    return after;
  });
}
