// npm run --silent providers:list [-- --json]
// Every provider with its deployments, without credentials (whether a key is stored, header names).
import { parseArgs } from "node:util";
import { providerPublicSelect, toPublicProvider } from "../lib/data-plane/providers/admin";
import { withCliDatabase } from "../lib/platform/db/cli-connection";

const { values } = parseArgs({ options: { json: { type: "boolean", default: false } }, strict: true });
try {
  const providers = await withCliDatabase(async ({ prisma }) =>
    (await prisma.provider.findMany({ select: providerPublicSelect, orderBy: { name: "asc" } })).map(toPublicProvider),
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify(providers, null, 2)}\n`);
  } else {
    for (const p of providers) {
      const flags = [
        p.enabled ? "enabled" : "disabled",
        p.hasApiKey ? "key stored" : "no key",
        p.managedBy ? `managed by ${p.managedBy}` : "made by hand",
      ];
      process.stdout.write(`${p.name}\t${p.kind}\t${p.baseUrl ?? "-"}\t${flags.join(", ")}\n`);
      for (const d of p.deployments)
        process.stdout.write(`  ${d.modelName} → ${d.upstreamModel}  weight ${d.weight}${d.enabled ? "" : " (disabled)"}\n`);
    }
  }
} catch (error) {
  process.stderr.write(`providers:list: ${(error as Error).message}\n`);
  process.exit(2);
}
