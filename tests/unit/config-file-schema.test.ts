// The configuration file's schema: the JSON Schema committed for editors is the one the zod schema
// generates now, and the example file in deploy/ passes both it and the loader.
import { readFile } from "node:fs/promises";
import path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { CONFIG_SCHEMA_PATH, configSchemaText } from "../../lib/control-plane/config-file/json-schema";
import { ConfigFileError } from "../../lib/control-plane/config-file/issues";
import { parseConfigText } from "../../lib/control-plane/config-file/load";
import { PROJECT_ROOT } from "../../lib/platform/version";

const SECRET = "schema-test-secret-0123456789abcdef";
const read = (file: string) => readFile(path.join(PROJECT_ROOT, file), "utf8");
const EXAMPLE = "deploy/agenticorp.example.yaml";
const EXAMPLE_ENV = {
  OPENAI_API_KEY: "sk-x",
  OPENAI_ORGANIZATION: "org-x",
  AZURE_EAST_API_KEY: "az-x",
  ANTHROPIC_API_KEY: "ak-x",
  ONCALL_WEBHOOK_URL: "https://hooks.example.test/x",
};

function validator(schemaText: string) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(schemaText));
}

describe("docs/agenticorp.schema.json", () => {
  it("is current (regenerate with npm run config:schema)", async () => {
    expect(await read(CONFIG_SCHEMA_PATH)).toBe(configSchemaText());
  });

  it("accepts the example and refuses what the loader refuses, at the same place", async () => {
    const validate = validator(await read(CONFIG_SCHEMA_PATH));
    const example = YAML.parse(await read(EXAMPLE));
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    const inline = { ...example, providers: [{ ...example.providers[0], apiKey: "sk-inline" }] };
    expect(validate(inline)).toBe(false);
    expect(validate.errors?.some((e) => e.instancePath === "/providers/0/apiKey")).toBe(true);
  });
});

describe(EXAMPLE, () => {
  it("loads with its variables set", async () => {
    const loaded = parseConfigText(await read(EXAMPLE), EXAMPLE_ENV, SECRET, EXAMPLE);
    expect(loaded.config.providers.map((p) => p.name)).toEqual(["openai", "azure-east", "anthropic", "simulator"]);
    expect(loaded.config.scaling.active).toBe("business-hours");
    expect(loaded.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("names each variable that is not set, with its path", async () => {
    const { OPENAI_API_KEY: _1, ONCALL_WEBHOOK_URL: _2, ...partial } = EXAMPLE_ENV;
    let error: unknown;
    try {
      parseConfigText(await read(EXAMPLE), partial, SECRET, EXAMPLE);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).issues).toEqual([
      { path: "providers[0].apiKey.env", message: "environment variable OPENAI_API_KEY is not set" },
      { path: "alertRules[1].webhookUrl.env", message: "environment variable ONCALL_WEBHOOK_URL is not set" },
    ]);
  });

  it("hashes the resolved content: a rotated variable is a different file", async () => {
    const text = await read(EXAMPLE);
    const a = parseConfigText(text, EXAMPLE_ENV, SECRET).hash;
    expect(parseConfigText(text, { ...EXAMPLE_ENV }, SECRET).hash).toBe(a);
    expect(parseConfigText(text, { ...EXAMPLE_ENV, OPENAI_API_KEY: "sk-rotated" }, SECRET).hash).not.toBe(a);
  });
});
