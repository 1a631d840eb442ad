// The configuration CLIs as an operator runs them (the real scripts under tsx, against a database
// of their own): config:apply prints the difference and applies it (or not, with --dry-run), exits
// 1 with every problem's path for a bad file; config:export writes a file that applies back as "no
// changes"; providers:add takes credentials from the environment only, and providers:list shows them
// without it.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { decryptSecret } from "../../lib/platform/crypto/secret-box";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const run = promisify(execFile);
const SECRET = "config-cli-test-secret-0123456789abcdef";
let scratch: ScratchDatabase;
let database: Database;
let folder: string;

function cli(script: string, args: string[], extraEnv: Record<string, string> = {}) {
  return run(process.execPath, ["--import", "tsx", `scripts/${script}.ts`, ...args], {
    cwd: PROJECT_ROOT,
    timeout: 60_000,
    env: { PATH: process.env.PATH, NODE_ENV: "production", DATABASE_URL: scratch.url, SECRET, LOG_LEVEL: "silent", ...extraEnv },
  });
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_config_cli_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  folder = await mkdtemp(path.join(os.tmpdir(), "agenticorp-config-cli-"));
}, 60_000);
afterAll(async () => {
  await database?.close();
  await scratch?.drop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe("providers:add and providers:list", { timeout: 120_000 }, () => {
  it("add a provider with its key from the environment, audited; list shows it without the key", async () => {
    const added = await cli(
      "providers-add",
      [
        "--name",
        "by-cli",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--api-key-env",
        "CLI_KEY",
        "--model",
        "chat=gpt-4o:3",
        "--model",
        "mini=gpt-4o-mini",
      ],
      {
        CLI_KEY: "sk-from-env",
      },
    );
    expect(added.stdout).toMatch(/^added by-cli \(.+\) with 2 deployment\(s\)\n$/);
    const row = await database.prisma.provider.findUniqueOrThrow({
      where: { name: "by-cli" },
      include: { deployments: { orderBy: { modelName: "asc" } } },
    });
    expect(decryptSecret(row.apiKeyEncrypted!, SECRET)).toBe("sk-from-env");
    expect(row.deployments.map((d) => [d.modelName, d.upstreamModel, d.weight])).toEqual([
      ["chat", "gpt-4o", 3],
      ["mini", "gpt-4o-mini", 1],
    ]);
    expect(row.managedBy).toBeNull();
    const entry = await database.prisma.auditEntry.findFirstOrThrow({ where: { targetId: row.id } });
    expect([entry.action, entry.actorEmail]).toEqual(["provider.create", `cli:${os.userInfo().username}`]);
    expect(JSON.stringify(entry.after)).not.toContain("sk-from-env");

    const list = await cli("providers-list", []);
    expect(list.stdout).toContain(
      "by-cli\topenai_compatible\thttp://127.0.0.1:9/v1\tenabled, key stored, made by hand\n  chat → gpt-4o  weight 3\n",
    );
    const json = JSON.parse((await cli("providers-list", ["--json"])).stdout) as Array<Record<string, unknown>>;
    expect(json.find((p) => p.name === "by-cli")).toMatchObject({ hasApiKey: true, managedBy: null });
    expect(JSON.stringify(json)).not.toContain("sk-from-env");
    expect(JSON.stringify(json)).not.toContain(row.apiKeyEncrypted);
  });

  it("refuses a missing variable and a bad flag with exit code 2 and the flag's name", async () => {
    await expect(
      cli("providers-add", ["--name", "x", "--base-url", "http://127.0.0.1:9/v1", "--api-key-env", "NOT_SET"]),
    ).rejects.toMatchObject({
      code: 2,
      stderr: "providers:add: --api-key-env: environment variable NOT_SET is not set\n",
    });
    await expect(cli("providers-add", ["--name", "x", "--base-url", "ftp://nowhere"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--base-url:"),
    });
    expect(await database.prisma.provider.count({ where: { name: "x" } })).toBe(0);
  });
});

describe("config:apply and config:export", { timeout: 180_000 }, () => {
  const file = () => path.join(folder, "agenticorp.yaml");
  const FILE = `version: 1
providers:
  - name: from-file
    kind: simulator
    deployments: [{ modelName: file-model, upstreamModel: sim }]
alertRules:
  - { id: latency_p95_high, threshold: 2 }
`;

  it("--dry-run prints the difference and changes nothing; then it applies, and again reports no changes", async () => {
    await writeFile(file(), FILE);
    const dry = await cli("config-apply", ["--file", file(), "--dry-run"]);
    expect(dry.stdout).toBe(
      "+ provider from-file: create\n    deployments: none → file-model=sim×1\n~ alert rule latency_p95_high: take over (was made by hand)\n    threshold: 1 → 2\nDry run: nothing applied.\n",
    );
    expect(await database.prisma.provider.count({ where: { name: "from-file" } })).toBe(0);

    const applied = await cli("config-apply", ["--file", file()]);
    expect(applied.stdout).toContain("Applied 2 change(s).\n");
    expect(await database.prisma.provider.findUniqueOrThrow({ where: { name: "from-file" } })).toMatchObject({
      managedBy: "file",
    });
    expect(
      await database.prisma.auditEntry.count({ where: { action: "config.apply", actorEmail: `cli:${os.userInfo().username}` } }),
    ).toBe(1);

    const again = await cli("config-apply", ["--file", file()]);
    expect(again.stdout).toBe("No changes: the database already matches the file.\n");
    expect(await database.prisma.auditEntry.count({ where: { action: "config.apply" } })).toBe(1);
  });

  it("a bad file exits 1, lists every problem with its path, and applies nothing", async () => {
    const bad = path.join(folder, "bad.yaml");
    await writeFile(
      bad,
      "version: 1\nproviders:\n  - { name: broken, kind: simulator, deployments: [{ modelName: m, upstreamModel: u, weight: 5000 }] }\nalertRules:\n  - { id: cpu_high, forSeconds: -1 }\n",
    );
    const error = await cli("config-apply", ["--file", bad]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toContain("nothing applied");
    expect(error?.stderr).toContain("providers[0].deployments[0].weight:");
    expect(error?.stderr).toContain("alertRules[0].forSeconds:");
    expect(await database.prisma.provider.count({ where: { name: "broken" } })).toBe(0);
    await expect(cli("config-apply", [])).rejects.toMatchObject({ code: 2, stderr: "config:apply: --file is required\n" });
  });

  it("export writes the current state; with its variables set it applies back as no changes to any value", async () => {
    const exported = path.join(folder, "exported.yaml");
    await cli("config-export", ["--file", exported]);
    const text = await readFile(exported, "utf8");
    expect(text).toContain("# yaml-language-server: $schema=docs/agenticorp.schema.json");
    expect(text).toContain("#   BY_CLI_API_KEY: the API key of provider by-cli");
    expect(text).not.toContain("sk-from-env");
    const adopted = await cli("config-apply", ["--file", exported], { BY_CLI_API_KEY: "sk-from-env" });
    // Everything is taken over by the file; no value differs (no "field: before → after" line).
    expect(adopted.stdout).not.toContain("→");
    expect(adopted.stdout).toContain("~ provider by-cli: take over (was made by hand)");
    const again = await cli("config-apply", ["--file", exported], { BY_CLI_API_KEY: "sk-from-env" });
    expect(again.stdout).toBe("No changes: the database already matches the file.\n");
  });
});
