// Console API keys: list (with this minute's usage for limited keys), create (the value is in
// the response once and nowhere else), revoke. Every change is audited in its transaction.
import { ConflictError, NotFoundError } from "../errors";
import type { Prisma } from "../db/generated/client";
import { recordAudit } from "../audit/audit";
import { createApiKeyInput, generateApiKey, hashApiKey } from "../keys/api-keys";
import type { ApiKeyDto } from "./contracts";
import { idParams } from "./contracts";
import { actorOf, consoleHandler } from "./handler";

// As the CLI stores it: "ak-" and four characters, enough to tell keys apart.
const KEY_PREFIX_SHOWN = 7;
const keyColumns = { id: true, name: true, prefix: true, rpmLimit: true, allowedModels: true, createdAt: true, revokedAt: true } as const;

type KeyRow = Prisma.ApiKeyGetPayload<{ select: typeof keyColumns }>;

function toDto(row: KeyRow, usedThisMinute: number | null): ApiKeyDto {
  return { ...row, createdAt: row.createdAt.toISOString(), revokedAt: row.revokedAt?.toISOString() ?? null, usedThisMinute };
}

// GET /api/console/keys — every key, newest first; never the key itself or its hash.
export const listKeys = consoleHandler({ scope: "keys.read" }, async ({ prisma }) => {
  const [keys, usage] = await Promise.all([
    prisma.apiKey.findMany({ select: keyColumns, orderBy: { createdAt: "desc" } }),
    // The current window in database time, the clock the rate limiter counts by.
    prisma.$queryRaw<Array<{ key_id: string; used: number }>>`
      SELECT key_id::text, used FROM rate_limit_windows WHERE window_start = date_trunc('minute', now())`,
  ]);
  const used = new Map(usage.map((row) => [row.key_id, row.used]));
  return { keys: keys.map((k) => toDto(k, k.rpmLimit === null ? null : (used.get(k.id) ?? 0))) };
});

// POST /api/console/keys — creates a key; the response carries its value, shown once.
export const createKey = consoleHandler({ scope: "keys.write", body: createApiKeyInput, status: 201 }, async ({ prisma, body, session }) => {
  const key = generateApiKey();
  const record = await prisma.$transaction(async (tx) => {
    const created = await tx.apiKey.create({
      data: { name: body.name, rpmLimit: body.rpmLimit, allowedModels: body.allowedModels, keyHash: hashApiKey(key), prefix: key.slice(0, KEY_PREFIX_SHOWN) },
      select: keyColumns,
    });
    await recordAudit(tx, actorOf(session), { action: "key.create", targetType: "api_key", targetId: created.id, after: created });
    return created;
  });
  return { key, record: toDto(record, record.rpmLimit === null ? null : 0) };
});

// POST /api/console/keys/:id/revoke — every instance stops accepting the key within about a second.
export const revokeKey = consoleHandler({ scope: "keys.write", params: idParams }, async ({ prisma, params, session }) => {
  const record = await prisma.$transaction(async (tx) => {
    const before = await tx.apiKey.findUnique({ where: { id: params.id }, select: keyColumns });
    if (!before) throw new NotFoundError("No API key with this id.");
    if (before.revokedAt) throw new ConflictError("This key is already revoked.");
    const after = await tx.apiKey.update({ where: { id: params.id }, data: { revokedAt: new Date() }, select: keyColumns });
    await recordAudit(tx, actorOf(session), { action: "key.revoke", targetType: "api_key", targetId: after.id, before, after });
    return after;
  });
  return { record: toDto(record, null) };
});
