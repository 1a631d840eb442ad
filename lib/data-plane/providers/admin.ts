// Creating and changing providers and their deployments (console and CLI). Credentials (the API
// key, custom headers) are encrypted on the way in and never returned.
import { z } from "zod";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import { encryptSecret } from "../../platform/crypto/secret-box";
import { assertUpstreamUrlAllowed } from "../../platform/net/upstream-url";
import { headerNamesOf, publicSettings, sealHeaders } from "./credentials";
import {
  anthropicSettingsSchema,
  openAICompatibleSettingsSchema,
  simulatorProviderSettingsSchema,
  type HttpProviderSettings,
} from "./settings";

const name = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/i, "1-63 letters, digits, . _ -");

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
  z.object({
    kind: z.literal("openai_compatible"),
    ...httpProviderFields,
    settings: openAICompatibleSettingsSchema.prefault({}),
  }),
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
  managedBy: true,
  deployments: { select: { id: true, modelName: true, upstreamModel: true, weight: true, enabled: true } },
} as const;

export function toPublicProvider<T extends { apiKeyEncrypted: string | null; headerNames: string[]; settings: unknown }>(row: T) {
  const { apiKeyEncrypted, headerNames: _sealed, settings, ...rest } = row;
  return { ...rest, settings: publicSettings(settings), hasApiKey: apiKeyEncrypted !== null, headerNames: headerNamesOf(row) };
}

/** Splits validated remote settings into what is stored in the clear and the sealed headers (undefined: keep the stored ones). */
function sealSettings(settings: HttpProviderSettings, secret: string) {
  const { headers, ...clear } = settings;
  return { settings: clear, headers: headers === undefined ? undefined : sealHeaders(headers, secret) };
}

type Db = PrismaClient | Prisma.TransactionClient;

/** A deployment as written: the console's fields, and whether it serves (a configuration file may say no). */
export type DeploymentWrite = z.output<typeof deploymentInput> & { enabled?: boolean };

/**
 * Creates a provider from already validated input (the console validates with the same schema).
 * `managedBy` marks it and its deployments as a configuration file's (null: made by hand).
 */
export async function insertProvider(
  db: Db,
  parsed: z.output<typeof createProviderInput>,
  secret: string,
  managedBy: string | null = null,
) {
  const remote = parsed.kind === "simulator" ? undefined : sealSettings(parsed.settings, secret);
  const deployments: DeploymentWrite[] = parsed.deployments;
  const row = await db.provider.create({
    data: {
      name: parsed.name,
      kind: parsed.kind,
      baseUrl: parsed.kind === "simulator" ? null : parsed.baseUrl,
      apiKeyEncrypted: parsed.kind !== "simulator" && parsed.apiKey ? encryptSecret(parsed.apiKey, secret) : null,
      ...remote?.headers,
      settings: remote?.settings ?? parsed.settings,
      managedBy,
      deployments: { create: deployments.map((d) => ({ ...d, managedBy })) },
    },
    select: providerPublicSelect,
  });
  return { row, provider: toPublicProvider(row) };
}

/** A change to a stored provider; every field left out stays. `settings` is already validated for the provider's kind. */
export interface ProviderWrite {
  name?: string;
  baseUrl?: string;
  /** Null removes the stored key. */
  apiKey?: string | null;
  enabled?: boolean;
  settings?: object;
  /** Replaces the list. */
  deployments?: DeploymentWrite[];
  managedBy?: string | null;
}

/** Writes a change to one provider (credentials sealed on the way in) and returns its public row. */
export async function writeProviderChange(
  db: Db,
  current: { id: string; kind: "openai_compatible" | "anthropic" | "simulator" },
  change: ProviderWrite,
  secret: string,
) {
  let settings: object | undefined;
  let headers: ReturnType<typeof sealSettings>["headers"];
  if (change.settings !== undefined) {
    if (current.kind === "simulator") settings = change.settings;
    else ({ settings, headers } = sealSettings(change.settings as HttpProviderSettings, secret));
  }
  if (change.deployments !== undefined) {
    const managedBy = change.managedBy;
    await db.deployment.deleteMany({ where: { providerId: current.id } });
    await db.deployment.createMany({
      data: change.deployments.map((d) => ({ ...d, providerId: current.id, ...(managedBy === undefined ? {} : { managedBy }) })),
    });
  }
  return db.provider.update({
    where: { id: current.id },
    data: {
      name: change.name,
      baseUrl: change.baseUrl,
      enabled: change.enabled,
      settings,
      ...headers,
      apiKeyEncrypted:
        change.apiKey === undefined ? undefined : change.apiKey === null ? null : encryptSecret(change.apiKey, secret),
      managedBy: change.managedBy,
    },
    select: providerPublicSelect,
  });
}

/** Validates (schema, and the base URL against the upstream address policy) and creates. */
export async function createProvider(db: Db, input: CreateProviderInput, secret: string) {
  const parsed = createProviderInput.parse(input);
  if (parsed.kind !== "simulator") await assertUpstreamUrlAllowed(parsed.baseUrl, "baseUrl");
  return (await insertProvider(db, parsed, secret)).provider;
}
