// Provider credentials at rest: the API key and the custom headers (Azure's api-key and other
// non-Bearer schemes) are sealed with secret-box; only the header names stay in the clear, for
// the console to show. Rows written before headers were sealed keep them in settings.headers
// until sealLegacyProviderHeaders runs at start; until then they are read from there too.
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import { DecryptionError, decryptSecret, encryptSecret } from "../../platform/crypto/secret-box";

export type ProviderHeaders = Record<string, string>;

export interface SealedHeaders {
  headersEncrypted: string | null;
  headerNames: string[];
}

export function sealHeaders(headers: ProviderHeaders, secret: string): SealedHeaders {
  const names = Object.keys(headers).sort();
  return { headersEncrypted: names.length > 0 ? encryptSecret(JSON.stringify(headers), secret) : null, headerNames: names };
}

function legacyHeaders(settings: unknown): ProviderHeaders {
  const headers = (settings as { headers?: unknown } | null)?.headers;
  return headers && typeof headers === "object" ? (headers as ProviderHeaders) : {};
}

/** Every custom header of a row: sealed ones over any left in plaintext settings by an older version. */
export function openHeaders(row: { headersEncrypted: string | null; settings: unknown }, secret: string): ProviderHeaders {
  const sealed = row.headersEncrypted ? (JSON.parse(decryptSecret(row.headersEncrypted, secret)) as ProviderHeaders) : {};
  return { ...legacyHeaders(row.settings), ...sealed };
}

/** Settings as the console may show them: without header values, even from a row not yet sealed. */
export function publicSettings(settings: unknown): unknown {
  if (!settings || typeof settings !== "object" || !("headers" in settings)) return settings;
  const { headers: _hidden, ...rest } = settings as Record<string, unknown>;
  return rest;
}

/** The names of a row's custom headers, sealed or not yet. */
export function headerNamesOf(row: { headerNames: string[]; settings: unknown }): string[] {
  return [...new Set([...row.headerNames, ...Object.keys(legacyHeaders(row.settings))])].sort();
}

/**
 * Moves plaintext settings.headers of rows written by older versions into the sealed column;
 * returns how many rows it sealed. Idempotent and safe on every instance at once (each row is
 * locked while it is moved). A row sealed under another SECRET is left as it is.
 */
export async function sealLegacyProviderHeaders(prisma: PrismaClient, secret: string): Promise<number> {
  const legacy = await prisma.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM providers WHERE settings ? 'headers'`;
  let sealedRows = 0;
  for (const { id } of legacy) {
    await prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<Array<{ settings: unknown; headers_encrypted: string | null }>>`
        SELECT settings, headers_encrypted FROM providers WHERE id = ${id}::uuid AND settings ? 'headers' FOR UPDATE`;
      const row = rows[0];
      if (!row) return;
      let headers: ProviderHeaders;
      try {
        headers = openHeaders({ headersEncrypted: row.headers_encrypted, settings: row.settings }, secret);
      } catch (error) {
        if (error instanceof DecryptionError) return;
        throw error;
      }
      await tx.provider.update({
        where: { id },
        data: { ...sealHeaders(headers, secret), settings: publicSettings(row.settings) as Prisma.InputJsonValue },
      });
      sealedRows++;
    });
  }
  return sealedRows;
}
