// The configuration file's schema (agenticorp.yaml): providers with their deployments, scaling
// policies and the active one, alert rule terms. One zod schema: it validates the file, types the
// code, and is the JSON Schema editors use (docs/agenticorp.schema.json, `npm run config:schema`).
// Pieces come from the modules that own them, so the file accepts exactly what the console does.
// Credentials are references to environment variables, never inline values.
import { z } from "zod";
import { deploymentInput } from "../../data-plane/providers/admin";
import {
  anthropicSettingsSchema,
  openAICompatibleSettingsSchema,
  simulatorProviderSettingsSchema,
} from "../../data-plane/providers/settings";
import { policyNameSchema, policySpecSchema } from "../scaling/policies";
import { alertRuleTerms } from "../alerts/rules";

export const CONFIG_FILE_VERSION = 1;

/** `{ env: NAME }`: the value is read from the environment of the process that applies the file. */
const envReference = z
  .strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name (letters, digits, _)"),
  })
  .meta({
    description: "Read from this environment variable when the file is applied; a missing or empty variable is an error.",
  });
export type EnvReference = z.infer<typeof envReference>;

/** A value that may be written inline or read from the environment (non-secret header values). */
const textOrEnv = z.union([z.string().max(4_096), envReference]);

// The console's provider name rule, spelt without the /i flag so the JSON Schema says the same.
const providerName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "1-63 letters, digits, . _ -");

const fileDeployment = z.strictObject({
  ...deploymentInput.shape,
  enabled: z.boolean().default(true),
});

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "header names are letters, digits and -");

const httpProviderFields = {
  name: providerName,
  enabled: z.boolean().default(true),
  baseUrl: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }),
  /** Required by reference: a key inline in a file that lives in Git is a leaked key. */
  apiKey: envReference.optional(),
  /** Extra upstream headers (Azure's api-key, an organisation id): inline or by reference; stored encrypted. */
  headers: z
    .record(headerName, textOrEnv)
    .refine((h) => Object.keys(h).length <= 50, "at most 50 headers")
    .default({}),
  deployments: z.array(fileDeployment).max(100).default([]),
};

const fileProvider = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("openai_compatible"),
    ...httpProviderFields,
    settings: openAICompatibleSettingsSchema.omit({ headers: true }).prefault({}),
  }),
  z.strictObject({
    kind: z.literal("anthropic"),
    ...httpProviderFields,
    settings: anthropicSettingsSchema.omit({ headers: true }).prefault({}),
  }),
  z.strictObject({
    kind: z.literal("simulator"),
    name: providerName,
    enabled: z.boolean().default(true),
    settings: simulatorProviderSettingsSchema.prefault({}),
    deployments: z.array(fileDeployment).max(100).default([]),
  }),
]);
export type FileProvider = z.output<typeof fileProvider>;

const fileScaling = z.strictObject({
  /** The policy the fleet follows: a preset (aggressive, balanced, conservative) or a policy named here. Left out: the console chooses. */
  active: policyNameSchema.optional(),
  /** Custom policies (presets are part of the product and cannot be redefined). */
  policies: z
    .array(z.strictObject({ name: policyNameSchema, spec: policySpecSchema }))
    .max(100)
    .default([]),
});
export type FileScaling = z.output<typeof fileScaling>;

/** An alert rule's terms; fields left out stay as they are. Rules are the product's (see the console's Alerts page for ids). */
const fileAlertRule = alertRuleTerms.extend({
  id: z.string().min(1).max(200),
  /** Webhook URLs often carry a token: inline or by reference. Null: ALERT_WEBHOOK_URL. */
  webhookUrl: z.union([alertRuleTerms.shape.webhookUrl.unwrap().unwrap(), envReference]).nullable().optional(),
});
export type FileAlertRule = z.output<typeof fileAlertRule>;

export const configFileSchema = z
  .strictObject({
    /** Lets an editor find this schema: `# yaml-language-server: $schema=…` works too. */
    $schema: z.string().optional(),
    version: z.literal(CONFIG_FILE_VERSION),
    /** Every provider the file manages; a provider it managed and no longer lists is deleted. */
    providers: z.array(fileProvider).max(200).default([]),
    scaling: fileScaling.prefault({}),
    /** Alert rules whose terms the file sets; a rule no longer listed keeps its terms and becomes editable again. */
    alertRules: z.array(fileAlertRule).max(100).default([]),
  })
  .meta({
    title: "AgentiCorp configuration",
    description: "Applied by `npm run config:apply -- --file FILE` or at start with CONFIG_FILE=FILE.",
  });

export type ConfigFile = z.output<typeof configFileSchema>;
export type ConfigFileInput = z.input<typeof configFileSchema>;

/** The JSON Schema editors validate the file with (what the file may say, so: the input side). */
export function configFileJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configFileSchema, { io: "input", unrepresentable: "any" });
}
