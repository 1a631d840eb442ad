// npm run --silent providers:add -- --name NAME --kind openai_compatible|anthropic|simulator
//   [--base-url URL] [--api-key-env VAR] [--header-env Header=VAR ...] [--model public=upstream[:weight] ...]
// Adds a provider as the console does (validated, base URL checked against the address policy,
// credentials encrypted, audited as cli:<os user>). Credentials come from environment variables,
// never from flags, which other users can read in the process list and shell history.
import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { cliActor, recordAudit } from "../lib/control-plane/audit/audit";
import { createProviderInput, insertProvider } from "../lib/data-plane/providers/admin";
import { getConfig } from "../lib/platform/config";
import { ensureSecret } from "../lib/platform/crypto/secret";
import { withCliDatabase } from "../lib/platform/db/cli-connection";
import { assertUpstreamUrlAllowed } from "../lib/platform/net/upstream-url";

const { values } = parseArgs({
  options: {
    name: { type: "string" },
    kind: { type: "string", default: "openai_compatible" },
    "base-url": { type: "string" },
    "api-key-env": { type: "string" },
    "header-env": { type: "string", multiple: true, default: [] },
    model: { type: "string", multiple: true, default: [] },
  },
  strict: true,
});

function fail(message: string): never {
  process.stderr.write(`providers:add: ${message}\n`);
  process.exit(2);
}

function fromEnv(variable: string, flag: string): string {
  const value = process.env[variable];
  if (!value) fail(`${flag}: environment variable ${variable} is not set`);
  return value;
}

const deployments = values.model.map((spec) => {
  const match = /^([^=]+)=([^:]+?)(?::(\d+))?$/.exec(spec);
  if (!match) fail(`--model ${spec}: expected public=upstream or public=upstream:weight`);
  return { modelName: match[1]!, upstreamModel: match[2]!, weight: match[3] === undefined ? 1 : Number(match[3]) };
});
const headers = Object.fromEntries(
  values["header-env"].map((spec) => {
    const [header, variable] = spec.split("=", 2);
    if (!header || !variable) fail(`--header-env ${spec}: expected Header-Name=VARIABLE`);
    return [header, fromEnv(variable, "--header-env")];
  }),
);
const input =
  values.kind === "simulator"
    ? { kind: "simulator", name: values.name, deployments }
    : {
        kind: values.kind,
        name: values.name,
        baseUrl: values["base-url"],
        apiKey: values["api-key-env"] ? fromEnv(values["api-key-env"], "--api-key-env") : undefined,
        settings: Object.keys(headers).length ? { headers } : {},
        deployments,
      };

const FLAGS: Record<string, string> = {
  baseUrl: "--base-url",
  apiKey: "--api-key-env",
  name: "--name",
  kind: "--kind",
  deployments: "--model",
  settings: "--header-env",
};

try {
  const parsed = createProviderInput.parse(input);
  if (parsed.kind !== "simulator") await assertUpstreamUrlAllowed(parsed.baseUrl, "--base-url");
  const secret = await ensureSecret(getConfig());
  const provider = await withCliDatabase(({ prisma }) =>
    prisma.$transaction(async (tx) => {
      const { provider } = await insertProvider(tx, parsed, secret);
      await recordAudit(tx, cliActor(), {
        action: "provider.create",
        targetType: "provider",
        targetId: provider.id,
        after: provider,
      });
      return provider;
    }),
  );
  process.stdout.write(`added ${provider.name} (${provider.id}) with ${provider.deployments.length} deployment(s)\n`);
} catch (error) {
  if (error instanceof ZodError)
    fail(error.issues.map((i) => `${FLAGS[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`).join("; "));
  const unique = (error as { code?: string }).code === "P2002";
  fail(unique ? `a provider named ${values.name} already exists` : (error as Error).message);
}
