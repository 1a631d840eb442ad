// CONFIG_FILE at start with three real server processes on one database: exactly one applies the
// file (one "config.apply" audit entry) while the others wait, unready, until it is in force; all
// three then serve the file's models. A restart with the same file applies nothing; a changed file
// applied by a restarted instance reaches the running ones. A bad file stops the process at once.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { eventually } from "../helpers/gateway-fixture";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "config-startup-secret-0123456789abcdef0123";
let scratch: ScratchDatabase;
let database: Database;
let folder: string;
let file: string;
let key: string;
const servers: ServerProcess[] = [];

const fileText = (models: string[]) => `
version: 1
providers:
  - name: upstream
    kind: openai_compatible
    baseUrl: http://127.0.0.1:9/v1
    apiKey: { env: UPSTREAM_KEY }
    deployments:
${models.map((m) => `      - { modelName: ${m}, upstreamModel: ${m}-up }`).join("\n")}
  - name: sim
    kind: simulator
    deployments:
      - { modelName: sim-from-file, upstreamModel: sim }
alertRules:
  - { id: cpu_high, threshold: 88 }
`;

const env = () => ({
  DATABASE_URL: scratch.url,
  CONSOLE_ENABLED: "false",
  SECRET,
  CONFIG_FILE: file,
  UPSTREAM_KEY: "sk-upstream",
  HEARTBEAT_MS: "1000",
  DRAIN_TIMEOUT_MS: "1000",
});

const applies = () => database.prisma.auditEntry.count({ where: { action: "config.apply" } });
const version = async () =>
  (await database.pool.query<{ version: string }>("SELECT version::text FROM config_version")).rows[0]!.version;
const logged = (server: ServerProcess, msg: string) => server.logs.filter((line) => line.msg === msg).length;

async function models(server: ServerProcess): Promise<string[]> {
  const response = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await response.json()) as { data: Array<{ id: string }> };
  return body.data.map((m) => m.id).sort();
}

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_config_startup_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 2 });
  key = (await createApiKey(database.prisma, { name: "config-startup" })).key;
  folder = await mkdtemp(path.join(os.tmpdir(), "agenticorp-config-"));
  file = path.join(folder, "agenticorp.yaml");
  await writeFile(file, fileText(["chat-a"]));
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop("SIGTERM")));
  await database?.close();
  await scratch?.drop();
  if (folder) await rm(folder, { recursive: true, force: true });
}, 60_000);

describe("CONFIG_FILE at start", { timeout: 180_000 }, () => {
  it("three instances starting together apply the file once and all serve it", async () => {
    servers.push(...(await Promise.all([0, 1, 2].map(() => startServer({ env: env(), timeoutMs: 90_000 })))));
    for (const server of servers) {
      const ready = await fetch(`${server.url}/health/ready`);
      expect(ready.status, server.output().slice(-2000)).toBe(200);
      expect(await models(server)).toEqual(["chat-a", "sim-from-file"]);
    }
    expect(await applies()).toBe(1);
    const outcomes = servers.map((s) => [
      logged(s, "configuration file applied"),
      logged(s, "configuration file applied by another instance") + logged(s, "configuration file already in force"),
    ]);
    expect(outcomes.map(([applied]) => applied).sort()).toEqual([0, 0, 1]);
    expect(outcomes.every(([applied, waited]) => applied! + waited! === 1)).toBe(true);
    const provider = await database.prisma.provider.findUniqueOrThrow({ where: { name: "upstream" } });
    expect(provider.managedBy).toBe("file");
    expect((await database.prisma.alertRule.findUniqueOrThrow({ where: { id: "cpu_high" } })).threshold).toBe(88);
    expect(await database.prisma.configFileState.findUnique({ where: { id: 1 } })).toMatchObject({
      appliedBy: expect.stringMatching(/^config-file:/),
    });
  });

  it("a restart with the same file applies nothing: no audit entry, no version bump", async () => {
    const versionBefore = await version();
    await servers.pop()!.stop("SIGTERM");
    const restarted = await startServer({ env: env(), timeoutMs: 90_000 });
    servers.push(restarted);
    expect(logged(restarted, "configuration file already in force")).toBe(1);
    expect(await applies()).toBe(1);
    expect(await version()).toBe(versionBefore);
  });

  it("a changed file, applied by a restarted instance, reaches the instances already running", async () => {
    await writeFile(file, fileText(["chat-a", "chat-b"]));
    await servers.pop()!.stop("SIGTERM");
    const restarted = await startServer({ env: env(), timeoutMs: 90_000 });
    servers.push(restarted);
    expect(logged(restarted, "configuration file applied")).toBe(1);
    expect(await applies()).toBe(2);
    for (const server of servers) {
      await eventually(async () => (await models(server)).includes("chat-b"), 15_000, 100);
    }
  });

  it("a file with errors stops the process before it serves, naming each problem's path", async () => {
    const bad = path.join(folder, "bad.yaml");
    await writeFile(
      bad,
      "version: 1\nproviders:\n  - { name: x, kind: openai_compatible, baseUrl: 'http://127.0.0.1:9', apiKey: { env: NOT_SET_HERE } }\n",
    );
    const before = await version();
    await expect(startServer({ env: { ...env(), CONFIG_FILE: bad }, timeoutMs: 30_000 })).rejects.toThrow(
      /providers\[0\]\.apiKey\.env: environment variable NOT_SET_HERE is not set/,
    );
    expect(await version()).toBe(before);
  });
});
