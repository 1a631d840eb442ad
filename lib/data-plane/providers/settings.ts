// What a provider row's `settings` may hold, per kind (validated on write and on load).
import { z } from "zod";
import { RESPONSES_API_MODES } from "./responses-api";
import { simulatorSettingsSchema } from "./simulator";
import { timeoutsSchema } from "./types";

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "header names are letters, digits and -");

const httpSettingsFields = {
  /**
   * Sent with every upstream request. Write-only credentials (lib/data-plane/providers/credentials.ts): stored
   * sealed, never shown. On an edit, leaving them out keeps the stored ones; `{}` removes them.
   */
  headers: z
    .record(headerName, z.string().max(4_096))
    .refine((h) => Object.keys(h).length <= 50, "at most 50 headers")
    .optional(),
  timeouts: timeoutsSchema,
};

/** An Anthropic upstream speaks neither chat completions nor Responses: there is no Responses mode to choose. */
export const anthropicSettingsSchema = z.object({
  ...httpSettingsFields,
  responsesApi: z.never({ error: "only OpenAI-compatible providers speak the Responses API" }).optional(),
});

export const openAICompatibleSettingsSchema = z.object({
  ...httpSettingsFields,
  /**
   * "native": the upstream serves POST {baseUrl}/responses itself, so Responses requests pass
   * through as the client sent them; "translate" (default): they are asked as chat completions.
   */
  responsesApi: z.enum(RESPONSES_API_MODES, { error: `must be one of ${RESPONSES_API_MODES.join(", ")}` }).default("translate"),
});

export const simulatorProviderSettingsSchema = simulatorSettingsSchema.extend({ timeouts: timeoutsSchema });

/** The settings schema of a provider kind. */
export function settingsSchemaFor(kind: "openai_compatible" | "anthropic" | "simulator") {
  return kind === "simulator"
    ? simulatorProviderSettingsSchema
    : kind === "anthropic"
      ? anthropicSettingsSchema
      : openAICompatibleSettingsSchema;
}

export type OpenAICompatibleSettings = z.infer<typeof openAICompatibleSettingsSchema>;
export type AnthropicSettings = z.infer<typeof anthropicSettingsSchema>;
/** What an HTTP provider's settings hold, whatever its kind. */
export type HttpProviderSettings = OpenAICompatibleSettings | AnthropicSettings;
export type SimulatorProviderSettings = z.infer<typeof simulatorProviderSettingsSchema>;
