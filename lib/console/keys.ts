// Console API keys: list (with this minute's usage for limited keys), create (the value is in
// the response once and nowhere else), revoke. Every change is audited in its transaction.
import { apiKeyColumns, createApiKey, createApiKeyInput, revokeApiKey, type ApiKeyRecord } from "../keys/api-keys";
import type { ApiKeyDto } from "./contracts";
import { idParams } from "./contracts";
import { actorOf, consoleHandler } from "./handler";

function toDto(row: ApiKeyRecord, usedThisMinute: number | null): ApiKeyDto {
  return { ...row, createdAt: row.createdAt.toISOString(), revokedAt: row.revokedAt?.toISOString() ?? null, usedThisMinute };
}

// GET /api/console/keys — every key, newest first; never the key itself or its hash.
export const listKeys = consoleHandler({ scope: "keys.read" }, async ({ prisma }) => {
  const [keys, usage] = await Promise.all([
    prisma.apiKey.findMany({ select: apiKeyColumns, orderBy: { createdAt: "desc" } }),
    // The current window in database time, the clock the rate limiter counts by.
    prisma.$queryRaw<Array<{ key_id: string; used: number }>>`
      SELECT key_id::text, used FROM rate_limit_windows WHERE window_start = date_trunc('minute', now())`,
  ]);
  const used = new Map(usage.map((row) => [row.key_id, row.used]));
  return { keys: keys.map((k) => toDto(k, k.rpmLimit === null ? null : (used.get(k.id) ?? 0))) };
});

// POST /api/console/keys — creates a key; the response carries its value, shown once.
export const createKey = consoleHandler({ scope: "keys.write", body: createApiKeyInput, status: 201 }, async ({ prisma, body, session }) => {
  const { key, record } = await createApiKey(prisma, body, actorOf(session));
  return { key, record: toDto(record, record.rpmLimit === null ? null : 0) };
});

// POST /api/console/keys/:id/revoke — every instance stops accepting the key within about a second.
export const revokeKey = consoleHandler({ scope: "keys.write", params: idParams }, async ({ prisma, params, session }) => {
  const record = await revokeApiKey(prisma, params.id, actorOf(session));
  return { record: toDto(record, null) };
});
