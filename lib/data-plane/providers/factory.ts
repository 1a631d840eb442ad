// Turns a provider row into a live client (connection pool, simulator state).
import { decryptSecret } from "../../platform/crypto/secret-box";
import type { AddressPolicy } from "../../platform/net/address-policy";
import { openHeaders } from "./credentials";
import { AnthropicProvider } from "./anthropic/provider";
import { OpenAICompatibleProvider } from "./openai-compatible";
import { SimulatorProvider } from "./simulator";
import { anthropicSettingsSchema, openAICompatibleSettingsSchema, simulatorProviderSettingsSchema } from "./settings";
import type { ProviderClient, Timeouts } from "./types";

export interface ProviderRow {
  id: string;
  name: string;
  kind: "openai_compatible" | "anthropic" | "simulator";
  baseUrl: string | null;
  apiKeyEncrypted: string | null;
  /** Sealed custom headers (lib/data-plane/providers/credentials.ts). */
  headersEncrypted: string | null;
  settings: unknown;
  updatedAt: Date;
}

export interface LiveProvider {
  id: string;
  name: string;
  kind: ProviderRow["kind"];
  client: ProviderClient;
  timeouts: Timeouts;
  /** Identifies the row version the client was built from, to rebuild only what changed. */
  version: string;
}

export function providerVersion(row: ProviderRow): string {
  return `${row.updatedAt.getTime()}:${row.apiKeyEncrypted ?? ""}:${row.headersEncrypted ?? ""}`;
}

/** `addressPolicy`: where the client may connect (default: from configuration). */
export function createLiveProvider(row: ProviderRow, secret: string, addressPolicy?: AddressPolicy): LiveProvider {
  const base = { id: row.id, name: row.name, kind: row.kind, version: providerVersion(row) };
  if (row.kind === "simulator") {
    const settings = simulatorProviderSettingsSchema.parse(row.settings ?? {});
    return { ...base, client: new SimulatorProvider(settings), timeouts: settings.timeouts };
  }
  if (!row.baseUrl) throw new Error(`provider ${row.name} has no base URL`);
  const apiKey = row.apiKeyEncrypted ? decryptSecret(row.apiKeyEncrypted, secret) : undefined;
  const connection = { baseUrl: row.baseUrl, apiKey, headers: openHeaders(row, secret), addressPolicy };
  if (row.kind === "anthropic") {
    const { timeouts } = anthropicSettingsSchema.parse(row.settings ?? {});
    return { ...base, client: new AnthropicProvider({ ...connection, timeouts }), timeouts };
  }
  const { timeouts, responsesApi } = openAICompatibleSettingsSchema.parse(row.settings ?? {});
  return { ...base, client: new OpenAICompatibleProvider({ ...connection, timeouts, responsesApi }), timeouts };
}
