// npm run --silent config:apply -- --file agenticorp.yaml [--dry-run]
// Prints the difference between the file and the database, then (without --dry-run) applies it in
// one transaction, audited as cli:<os user>. Exit 0: applied or nothing to do; 1: the file was
// refused (every problem with its path; nothing applied); 2: usage or the database failed.
import { parseArgs } from "node:util";
import { cliActor } from "../lib/control-plane/audit/audit";
import { applyConfig, formatChanges } from "../lib/control-plane/config-file/apply";
import { ConfigFileError } from "../lib/control-plane/config-file/issues";
import { loadConfigFile } from "../lib/control-plane/config-file/load";
import { getConfig } from "../lib/platform/config";
import { ensureSecret } from "../lib/platform/crypto/secret";
import { withCliDatabase } from "../lib/platform/db/cli-connection";

const { values } = parseArgs({
  options: { file: { type: "string" }, "dry-run": { type: "boolean", default: false } },
  strict: true,
});
if (!values.file) {
  process.stderr.write("config:apply: --file is required\n");
  process.exit(2);
}

try {
  const secret = await ensureSecret(getConfig());
  // The file's { env: NAME } references are this process's environment, by design.
  const loaded = await loadConfigFile(values.file, process.env, secret);
  const dryRun = values["dry-run"];
  const result = await withCliDatabase(({ prisma }) => applyConfig(prisma, loaded, { actor: cliActor(), secret, dryRun }));
  process.stdout.write(formatChanges(result.changes));
  if (result.changes.length > 0)
    process.stdout.write(dryRun ? "Dry run: nothing applied.\n" : `Applied ${result.changes.length} change(s).\n`);
} catch (error) {
  process.stderr.write(`config:apply: ${(error as Error).message}\n`);
  process.exit(error instanceof ConfigFileError ? 1 : 2);
}
