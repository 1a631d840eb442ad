// Console API keys: list (with this minute's usage for limited keys, when each was last used, and
// allowed model names no deployment serves), create (the value is in the response once and
// nowhere else), revoke. Every change is audited in its transaction.
import "server-only";
import type { PrismaClient } from "../../platform/db/generated/client";
import {
  apiKeyColumns,
  createApiKey,
  createApiKeyInput,
  keyCaptureInput,
  revokeApiKey,
  setApiKeyCapture,
  type ApiKeyRecord,
} from "../keys/api-keys";
import type { ApiKeyDto } from "./contracts";
import { idParams } from "./contracts";
import { actorOf, consoleHandler } from "./handler";

interface KeyFacts {
  usedThisMinute: number | null;
  lastUsedAt: Date | null;
  servedModels: ReadonlySet<string>;
}

function toDto(row: ApiKeyRecord, facts: KeyFacts): ApiKeyDto {
  return {
    ...row,
    createdAt: row.createdAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    usedThisMinute: facts.usedThisMinute,
    lastUsedAt: facts.lastUsedAt?.toISOString() ?? null,
    unknownModels: row.allowedModels.filter((model) => !facts.servedModels.has(model)),
  };
}

/** Model names some deployment serves: an allowed name outside them is likely a typo. */
async function servedModels(prisma: PrismaClient): Promise<Set<string>> {
  const rows = await prisma.deployment.findMany({ select: { modelName: true }, distinct: ["modelName"] });
  return new Set(rows.map((row) => row.modelName));
}

async function lastUsedAt(prisma: PrismaClient, keyId: string): Promise<Date | null> {
  return (await prisma.apiKeyUsage.findUnique({ where: { keyId }, select: { lastUsedAt: true } }))?.lastUsedAt ?? null;
}

// GET /api/console/keys — every key, newest first; never the key itself or its hash.
export const listKeys = consoleHandler({ scope: "keys.read" }, async ({ prisma }) => {
  const [keys, usage, lastUsed, served] = await Promise.all([
    prisma.apiKey.findMany({ select: apiKeyColumns, orderBy: { createdAt: "desc" } }),
    // The current window in database time, the clock the rate limiter counts by.
    prisma.$queryRaw<Array<{ key_id: string; used: number }>>`
      SELECT key_id::text, used FROM rate_limit_windows WHERE window_start = date_trunc('minute', now())`,
    prisma.apiKeyUsage.findMany({ select: { keyId: true, lastUsedAt: true } }),
    servedModels(prisma),
  ]);
  const used = new Map(usage.map((row) => [row.key_id, row.used]));
  const lastUsedByKey = new Map(lastUsed.map((row) => [row.keyId, row.lastUsedAt]));
  return {
    keys: keys.map((k) =>
      toDto(k, {
        usedThisMinute: k.rpmLimit === null ? null : (used.get(k.id) ?? 0),
        lastUsedAt: lastUsedByKey.get(k.id) ?? null,
        servedModels: served,
      }),
    ),
  };
});

// POST /api/console/keys — creates a key; the response carries its value, shown once, and flags allowed models no deployment serves.
export const createKey = consoleHandler(
  { scope: "keys.write", body: createApiKeyInput, status: 201 },
  async ({ prisma, body, session }) => {
    const { key, record } = await createApiKey(prisma, body, actorOf(session));
    return {
      key,
      record: toDto(record, {
        usedThisMinute: record.rpmLimit === null ? null : 0,
        lastUsedAt: null,
        servedModels: await servedModels(prisma),
      }),
    };
  },
);

// POST /api/console/keys/:id/revoke — every instance stops accepting the key within about a second.
export const revokeKey = consoleHandler({ scope: "keys.write", params: idParams }, async ({ prisma, params, session }) => {
  const record = await revokeApiKey(prisma, params.id, actorOf(session));
  const [used, served] = await Promise.all([lastUsedAt(prisma, record.id), servedModels(prisma)]);
  return { record: toDto(record, { usedThisMinute: null, lastUsedAt: used, servedModels: served }) };
});

// PUT /api/console/keys/:id/capture — the request log stores (or stops storing) this key's bodies; admins only read them.
export const setKeyCapture = consoleHandler(
  { scope: "keys.write", params: idParams, body: keyCaptureInput },
  async ({ prisma, params, body, session }) => {
    const record = await setApiKeyCapture(prisma, params.id, body, actorOf(session));
    const [used, served] = await Promise.all([lastUsedAt(prisma, record.id), servedModels(prisma)]);
    return { record: toDto(record, { usedThisMinute: null, lastUsedAt: used, servedModels: served }) };
  },
);
