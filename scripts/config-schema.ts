// npm run config:schema — regenerates docs/agenticorp.schema.json from the file's zod schema
// (tests/unit/config-file-schema.test.ts fails while the committed copy is out of date).
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { CONFIG_SCHEMA_PATH, configSchemaText } from "../lib/control-plane/config-file/json-schema";
import { PROJECT_ROOT } from "../lib/platform/version";

await writeFile(path.join(PROJECT_ROOT, CONFIG_SCHEMA_PATH), configSchemaText());
process.stdout.write(`wrote ${CONFIG_SCHEMA_PATH}\n`);
