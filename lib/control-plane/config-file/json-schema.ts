// The configuration file's JSON Schema as committed for editors (docs/agenticorp.schema.json).
import { configFileJsonSchema } from "./schema";

export const CONFIG_SCHEMA_PATH = "docs/agenticorp.schema.json";

export function configSchemaText(): string {
  return `${JSON.stringify(configFileJsonSchema(), null, 2)}\n`;
}
