// Reads a configuration file: YAML → the schema → environment references resolved → the checks
// that span objects (duplicates, presets). Any problem refuses the whole file with every issue's
// path. What comes out is what the sections plan from, and its hash identifies it.
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import stringify from "safe-stable-stringify";
import YAML from "yaml";
import { isPresetName } from "../scaling/policies";
import { ConfigFileError, formatPath, issuesFromZod, type ConfigIssue } from "./issues";
import { configFileSchema, type ConfigFile, type EnvReference } from "./schema";

/** The file with every `{ env: NAME }` replaced by the variable's value. */
export type Resolved<T> = T extends EnvReference
  ? string
  : T extends Array<infer U>
    ? Array<Resolved<U>>
    : T extends object
      ? { [K in keyof T]: Resolved<T[K]> }
      : T;
export type ResolvedConfig = Resolved<ConfigFile>;

/** Where `{ env: NAME }` references are looked up: the applying process's environment. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface LoadedConfig {
  config: ResolvedConfig;
  /**
   * HMAC-SHA256 (keyed by SECRET) of the resolved content: a changed variable (a rotated key) is a
   * changed file, and the stored hash says nothing about the values it covers.
   */
  hash: string;
  source: string;
}

function isEnvReference(value: unknown): value is EnvReference {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 1 &&
    typeof (value as { env?: unknown }).env === "string"
  );
}

function resolveReferences(value: unknown, env: Environment, path: PropertyKey[], issues: ConfigIssue[]): unknown {
  if (isEnvReference(value)) {
    const found = env[value.env];
    if (found === undefined || found === "")
      issues.push({ path: formatPath([...path, "env"]), message: `environment variable ${value.env} is not set` });
    return found ?? "";
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveReferences(item, env, [...path, i], issues));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveReferences(item, env, [...path, key], issues)]),
    );
  }
  return value;
}

function duplicates<T>(
  items: T[],
  key: (item: T) => string,
  path: (index: number) => string,
  what: string,
  issues: ConfigIssue[],
): void {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, index);
    else issues.push({ path: path(index), message: `${what} is also at index ${first}` });
  });
}

function crossChecks(config: ConfigFile, issues: ConfigIssue[]): void {
  duplicates(
    config.providers,
    (p) => p.name,
    (i) => `providers[${i}].name`,
    "this provider name",
    issues,
  );
  config.providers.forEach((provider, p) =>
    duplicates(
      provider.deployments,
      (d) => `${d.modelName}\u0000${d.upstreamModel}`,
      (i) => `providers[${p}].deployments[${i}]`,
      "the same modelName and upstreamModel",
      issues,
    ),
  );
  duplicates(
    config.scaling.policies,
    (p) => p.name,
    (i) => `scaling.policies[${i}].name`,
    "this policy name",
    issues,
  );
  config.scaling.policies.forEach((policy, i) => {
    if (isPresetName(policy.name))
      issues.push({
        path: `scaling.policies[${i}].name`,
        message: `"${policy.name}" is a preset and cannot be redefined; use another name`,
      });
  });
  duplicates(
    config.alertRules,
    (r) => r.id,
    (i) => `alertRules[${i}].id`,
    "this rule id",
    issues,
  );
}

/** Validates a file's text; throws ConfigFileError listing every issue. */
export function parseConfigText(text: string, env: Environment, secret: string, source = "configuration file"): LoadedConfig {
  const document = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigFileError(
      document.errors.map((error) => ({ path: "", message: error.message.split("\n")[0]! })),
      source,
    );
  }
  const parsed = configFileSchema.safeParse(document.toJS() ?? {});
  if (!parsed.success) throw new ConfigFileError(issuesFromZod(parsed.error), source);
  const issues: ConfigIssue[] = [];
  crossChecks(parsed.data, issues);
  const config = resolveReferences(parsed.data, env, [], issues) as ResolvedConfig;
  if (issues.length > 0) throw new ConfigFileError(issues, source);
  const hash = createHmac("sha256", secret)
    .update(stringify(config) ?? "")
    .digest("hex");
  return { config, hash, source };
}

export async function loadConfigFile(file: string, env: Environment, secret: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigFileError(
      [{ path: "", message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }],
      file,
    );
  }
  return parseConfigText(text, env, secret, file);
}
