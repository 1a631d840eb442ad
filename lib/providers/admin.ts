// Creating and changing providers and their deployments (console and CLI). Credentials are
// encrypted on the way in and never returned.
import { z } from "zod";
import type { PrismaClient } from "../db/generated/client";
import { encryptSecret } from "../crypto/secret-box";
import { openAICompatibleSettingsSchema, simulatorProviderSettingsSchema } from "./settings";

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
  settings: openAICompatibleSettingsSchema.default({ headers: {}, timeouts: { connectMs: 2_000, firstByteMs: 30_000, totalMs: 120_000 } }),
  deployments: z.array(deploymentInput).max(100).default([]),
};

export const createProviderInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("openai_compatible"), ...httpProviderFields }),
  // Anthropic's Messages API; baseUrl without /v1 (https://api.anthropic.com), as its SDKs take it.
  z.object({ kind: z.literal("anthropic"), ...httpProviderFields }),
  z.object({
    kind: z.literal("simulator"),
    name,
    settings: simulatorProviderSettingsSchema.default(simulatorProviderSettingsSchema.parse({})),
    deployments: z.array(deploymentInput).max(100).default([]),
  }),
]);
export type CreateProviderInput = z.input<typeof createProviderInput>;

/** The provider as the console may show it: settings, deployments, whether a key is stored. */
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
  deployments: { select: { id: true, modelName: true, upstreamModel: true, weight: true, enabled: true } },
} as const;

export function toPublicProvider<T extends { apiKeyEncrypted: string | null }>(row: T) {
  const { apiKeyEncrypted, ...rest } = row;
  return { ...rest, hasApiKey: apiKeyEncrypted !== null };
}

export async function createProvider(prisma: PrismaClient, input: CreateProviderInput, secret: string) {
  const parsed = createProviderInput.parse(input);
  const row = await prisma.provider.create({
    data: {
      name: parsed.name,
      kind: parsed.kind,
      baseUrl: parsed.kind === "simulator" ? null : parsed.baseUrl,
      apiKeyEncrypted: parsed.kind !== "simulator" && parsed.apiKey ? encryptSecret(parsed.apiKey, secret) : null,
      settings: parsed.settings,
      deployments: { create: parsed.deployments },
    },
    select: providerPublicSelect,
  });
  return toPublicProvider(row);
}
