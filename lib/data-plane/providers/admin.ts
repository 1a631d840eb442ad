// Creating and changing providers and their deployments (console and CLI). Credentials (the API
// key, custom headers) are encrypted on the way in and never returned.
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import { encryptSecret } from "../../platform/crypto/secret-box";
import { assertUpstreamUrlAllowed } from "../../platform/net/upstream-url";
import { headerNamesOf, publicSettings, sealHeaders } from "./credentials";
import { anthropicSettingsSchema, openAICompatibleSettingsSchema, simulatorProviderSettingsSchema, type HttpProviderSettings } from "./settings";

const name = z.string().trim().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, "1-63 letters, digits, . _ -");

export const deploymentInput = z.object({
  modelName: z.string().trim().min(1).max(200),
  upstreamModel: z.string().trim().min(1).max(200),
  weight: z.number().int().min(0).max(1_000).default(1),
});

const httpProviderFields = {
  name,
  baseUrl: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }),
  apiKey: z.string().min(1).max(4_096).optional(),
  deployments: z.array(deploymentInput).max(100).default([]),
};

export const createProviderInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("openai_compatible"), ...httpProviderFields, settings: openAICompatibleSettingsSchema.prefault({}) }),
  // Anthropic's Messages API; baseUrl without /v1 (https://api.anthropic.com), as its SDKs take it.
  z.object({ kind: z.literal("anthropic"), ...httpProviderFields, settings: anthropicSettingsSchema.prefault({}) }),
  z.object({
    kind: z.literal("simulator"),
    name,
    settings: simulatorProviderSettingsSchema.default(simulatorProviderSettingsSchema.parse({})),
    deployments: z.array(deploymentInput).max(100).default([]),
  }),
]);
export type CreateProviderInput = z.input<typeof createProviderInput>;

/** The provider as the console may show it: settings, deployments, whether a key is stored, which headers are set. */
export const providerPublicSelect = {
  id: true,
  name: true,
  kind: true,
  baseUrl: true,
  settings: true,
  enabled: true,
  createdAt: true,
  updatedAt: true,
  apiKeyEncrypted: true,
  headerNames: true,
  deployments: { select: { id: true, modelName: true, upstreamModel: true, weight: true, enabled: true } },
} as const;

export function toPublicProvider<T extends { apiKeyEncrypted: string | null; headerNames: string[]; settings: unknown }>(row: T) {
  const { apiKeyEncrypted, headerNames: _sealed, settings, ...rest } = row;
  return { ...rest, settings: publicSettings(settings), hasApiKey: apiKeyEncrypted !== null, headerNames: headerNamesOf(row) };
}

/** Splits validated remote settings into what is stored in the clear and the sealed headers (undefined: keep the stored ones). */
export function sealSettings(settings: HttpProviderSettings, secret: string) {
  const { headers, ...clear } = settings;
  return { settings: clear, headers: headers === undefined ? undefined : sealHeaders(headers, secret) };
}

type Db = PrismaClient | Prisma.TransactionClient;

/** Creates a provider from already validated input (the console validates with the same schema). */
export async function insertProvider(db: Db, parsed: z.output<typeof createProviderInput>, secret: string) {
  const remote = parsed.kind === "simulator" ? undefined : sealSettings(parsed.settings, secret);
  const row = await db.provider.create({
    data: {
      name: parsed.name,
      kind: parsed.kind,
      baseUrl: parsed.kind === "simulator" ? null : parsed.baseUrl,
      apiKeyEncrypted: parsed.kind !== "simulator" && parsed.apiKey ? encryptSecret(parsed.apiKey, secret) : null,
      ...remote?.headers,
      settings: remote?.settings ?? parsed.settings,
      deployments: { create: parsed.deployments },
    },
    select: providerPublicSelect,
  });
  return { row, provider: toPublicProvider(row) };
}

/** Validates (schema, and the base URL against the upstream address policy) and creates. */
export async function createProvider(db: Db, input: CreateProviderInput, secret: string) {
  const parsed = createProviderInput.parse(input);
  if (parsed.kind !== "simulator") await assertUpstreamUrlAllowed(parsed.baseUrl, "baseUrl");
  return (await insertProvider(db, parsed, secret)).provider;
}
