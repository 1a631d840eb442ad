// npm run --silent keys:create -- --name NAME [--rpm N] [--models a,b]
// Prints only the new key (shown once; only its hash is stored). Audited as cli:<os user>.
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { cliActor } from "../lib/control-plane/audit/audit";
import { withCliDatabase } from "../lib/platform/db/cli-connection";
import { createApiKey } from "../lib/control-plane/keys/api-keys";

const { values } = parseArgs({
  options: { name: { type: "string" }, rpm: { type: "string" }, models: { type: "string" } },
  strict: true,
});

try {
  const key = await withCliDatabase(async ({ prisma }) => {
    const { key } = await createApiKey(
      prisma,
      {
        name: values.name ?? "",
        rpmLimit: values.rpm === undefined ? null : Number(values.rpm),
        allowedModels: values.models
          ? values.models
              .split(",")
              .map((m) => m.trim())
              .filter(Boolean)
          : [],
      },
      cliActor(),
    );
    return key;
  });
  process.stdout.write(key + "\n");
} catch (error) {
  const message =
    error instanceof ZodError
      ? error.issues.map((i) => `--${i.path[0] === "rpmLimit" ? "rpm" : String(i.path[0])}: ${i.message}`).join("; ")
      : (error as Error).message;
  process.stderr.write(`keys:create: ${message}\n`);
  process.exit(2);
}
