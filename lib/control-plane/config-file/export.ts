// `config:export`: the current providers, custom policies, active policy and alert rule terms as a
// configuration file. Credentials cannot be exported (only their ciphertext is stored, and a file
// is no place for them): each becomes a reference to an environment variable, named in the header,
// that must hold the value when the file is applied.
import YAML from "yaml";
import type { PrismaClient } from "../../platform/db/generated/client";
import { headerNamesOf, publicSettings } from "../../data-plane/providers/credentials";
import { CONFIG_FILE_VERSION, type ConfigFileInput } from "./schema";

/** An environment variable name from free text: OPENAI_API_KEY from ("openai", "api key"). */
function envName(...parts: string[]): string {
  return parts
    .join("_")
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .replace(/^(\d)/, "_$1");
}

export interface ExportedConfig {
  config: ConfigFileInput;
  /** Variables the file refers to, each with what it must hold. */
  variables: Array<{ name: string; holds: string }>;
}

export async function exportConfig(prisma: PrismaClient): Promise<ExportedConfig> {
  const [providers, policies, rules] = await Promise.all([
    prisma.provider.findMany({
      orderBy: { name: "asc" },
      include: { deployments: { orderBy: [{ modelName: "asc" }, { upstreamModel: "asc" }] } },
    }),
    prisma.scalingPolicy.findMany({ orderBy: { name: "asc" } }),
    prisma.alertRule.findMany({ orderBy: { id: "asc" } }),
  ]);
  const variables: ExportedConfig["variables"] = [];
  const reference = (name: string, holds: string) => {
    variables.push({ name, holds });
    return { env: name };
  };
  const config: ConfigFileInput = {
    version: CONFIG_FILE_VERSION,
    providers: providers.map((p) => {
      const deployments = p.deployments.map((d) => ({
        modelName: d.modelName,
        upstreamModel: d.upstreamModel,
        weight: d.weight,
        ...(d.enabled ? {} : { enabled: false }),
      }));
      const common = { name: p.name, ...(p.enabled ? {} : { enabled: false }) };
      const settings = publicSettings(p.settings) as Record<string, never>;
      if (p.kind === "simulator") return { kind: p.kind, ...common, settings, deployments };
      const headers = Object.fromEntries(
        headerNamesOf(p).map((h) => [h, reference(envName(p.name, h), `the ${h} header of provider ${p.name}`)]),
      );
      return {
        kind: p.kind,
        ...common,
        baseUrl: p.baseUrl ?? "",
        ...(p.apiKeyEncrypted ? { apiKey: reference(envName(p.name, "api key"), `the API key of provider ${p.name}`) } : {}),
        ...(Object.keys(headers).length ? { headers } : {}),
        settings,
        deployments,
      };
    }),
    scaling: {
      ...(policies.some((p) => p.active) ? { active: policies.find((p) => p.active)!.name } : {}),
      policies: policies.filter((p) => !p.preset).map((p) => ({ name: p.name, spec: p.spec as never })),
    },
    alertRules: rules.map((r) => ({
      id: r.id,
      threshold: r.threshold,
      forSeconds: r.forSeconds,
      windowSeconds: r.windowSeconds,
      enabled: r.enabled,
      severity: r.severity as "info" | "warning" | "critical",
      webhookUrl: r.webhookUrl ? reference(envName("alert", r.id, "webhook url"), `the webhook URL of alert rule ${r.id}`) : null,
      webhookFormat: r.webhookFormat as "json" | "slack" | null,
    })),
  };
  return { config, variables };
}

/** The exported configuration as YAML, headed by the variables it needs. */
export function exportedYaml({ config, variables }: ExportedConfig, schemaPath = "docs/agenticorp.schema.json"): string {
  const header = [
    `# yaml-language-server: $schema=${schemaPath}`,
    "# AgentiCorp configuration, exported. Apply: npm run config:apply -- --file FILE [--dry-run]",
    ...(variables.length
      ? [
          "# Credentials are not exported; set these variables where the file is applied:",
          ...variables.map((v) => `#   ${v.name}: ${v.holds}`),
        ]
      : []),
  ];
  return `${header.join("\n")}\n${YAML.stringify(config, { lineWidth: 0 })}`;
}
