// What a provider row's `settings` may hold, per kind (validated on write and on load).
import { z } from "zod";
import { simulatorSettingsSchema } from "./simulator";
import { timeoutsSchema } from "./types";

const headerName = z.string().regex(/^[A-Za-z0-9-]{1,100}$/, "header names are letters, digits and -");

export const openAICompatibleSettingsSchema = z.object({
  headers: z.record(headerName, z.string().max(4_096)).default({}),
  timeouts: timeoutsSchema,
});

export const simulatorProviderSettingsSchema = simulatorSettingsSchema.extend({ timeouts: timeoutsSchema });

export type OpenAICompatibleSettings = z.infer<typeof openAICompatibleSettingsSchema>;
export type SimulatorProviderSettings = z.infer<typeof simulatorProviderSettingsSchema>;
