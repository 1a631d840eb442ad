// npm run --silent keys:revoke -- --id KEY_ID   (revocation reaches every instance within ~1 s;
// audited as cli:<os user>)
import { parseArgs } from "node:util";
import { cliActor } from "../lib/control-plane/audit/audit";
import { withCliDatabase } from "../lib/platform/db/cli-connection";
import { revokeApiKey } from "../lib/control-plane/keys/api-keys";

const { values } = parseArgs({ options: { id: { type: "string" } }, strict: true });
if (!values.id) {
  process.stderr.write("keys:revoke: --id is required\n");
  process.exit(2);
}
try {
  const record = await withCliDatabase(({ prisma }) => revokeApiKey(prisma, values.id!, cliActor()));
  process.stdout.write(`revoked ${record.id} (${record.name})\n`);
} catch (error) {
  process.stderr.write(`keys:revoke: ${(error as Error).message.split("\n")[0]}\n`);
  process.exit(2);
}
