// npm run --silent config:export [-- --file agenticorp.yaml]
// Writes the current configuration as a file (stdout without --file); credentials become
// environment variable references listed in its header.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { exportConfig, exportedYaml } from "../lib/control-plane/config-file/export";
import { withCliDatabase } from "../lib/platform/db/cli-connection";

const { values } = parseArgs({ options: { file: { type: "string" } }, strict: true });
try {
  const text = exportedYaml(await withCliDatabase(({ prisma }) => exportConfig(prisma)));
  if (values.file) {
    await writeFile(values.file, text);
    process.stderr.write(`config:export: wrote ${values.file}\n`);
  } else process.stdout.write(text);
} catch (error) {
  process.stderr.write(`config:export: ${(error as Error).message}\n`);
  process.exit(2);
}
