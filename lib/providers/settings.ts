// What a provider row's `settings` may hold, per kind (validated on write and on load).
import { z } from "zod";
import { simulatorSettingsSchema } from "./simulator";
import { timeoutsSchema } from "./types";

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "header names are letters, digits and -");

export const openAICompatibleSettingsSchema = z.object({
  /**
   * Sent with every upstream request. Write-only credentials (lib/providers/credentials.ts): stored
   * sealed, never shown. On an edit, leaving them out keeps the stored ones; `{}` removes them.
   */
  headers: z.record(headerName, z.string().max(4_096)).refine((h) => Object.keys(h).length <= 50, "at most 50 headers").optional(),
  timeouts: timeoutsSchema,
});

export const simulatorProviderSettingsSchema = simulatorSettingsSchema.extend({ timeouts: timeoutsSchema });

export type OpenAICompatibleSettings = z.infer<typeof openAICompatibleSettingsSchema>;
export type SimulatorProviderSettings = z.infer<typeof simulatorProviderSettingsSchema>;
