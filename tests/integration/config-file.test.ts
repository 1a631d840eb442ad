// Configuration as code against a real PostgreSQL database: a file applied, applied again (nothing
// happens: no audit entry, no configuration version bump), changed, and shrunk (what it managed
// goes, what was made by hand stays); a file with errors changes nothing and names every problem's
// path; and the console refuses, with a 409 in its own error shape, to edit what the file manages.
// Also the start-up apply's wait for another instance: ended by that instance's apply, or bounded.
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyConfig, formatChanges } from "../../lib/control-plane/config-file/apply";
import { applyConfigFileAtStart, CONFIG_FILE_LEASE } from "../../lib/control-plane/config-file/startup";
import { acquireLease, releaseLease } from "../../lib/platform/coordination/lease";
import { ConfigFileError } from "../../lib/control-plane/config-file/issues";
import { parseConfigText } from "../../lib/control-plane/config-file/load";
import { SYSTEM_ACTOR } from "../../lib/control-plane/audit/audit";
import { updateAlertRule } from "../../lib/control-plane/alerts/rules";
import { activatePolicy, savePolicy, seedPolicies } from "../../lib/control-plane/scaling/store";
import { deleteProvider, updateProvider } from "../../lib/control-plane/console/providers";
import { createUser } from "../../lib/control-plane/users/users";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { openHeaders } from "../../lib/data-plane/providers/credentials";
import { decryptSecret } from "../../lib/platform/crypto/secret-box";
import { parseConfig, setConfig } from "../../lib/platform/config";
import { createDatabase, setDatabase, type Database } from "../../lib/platform/db/client";
import { callConsoleHandler } from "../helpers/console-routes";
import { sessionCookie } from "../helpers/console-session";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const SECRET = "config-file-test-secret-0123456789abcdef";
const ACTOR = { id: null, email: "cli:test" };
let scratch: ScratchDatabase;
let db: Database;

const env = { OPENAI_KEY: "sk-first", ORG: "org-1", HOOK: "https://hooks.example.test/T0K3N" };

const FILE = `
version: 1
providers:
  - name: openai
    kind: openai_compatible
    baseUrl: http://127.0.0.1:9/v1
    apiKey: { env: OPENAI_KEY }
    headers:
      OpenAI-Organization: { env: ORG }
    deployments:
      - { modelName: gpt, upstreamModel: gpt-4o, weight: 3 }
      - { modelName: gpt, upstreamModel: gpt-4o-mini, weight: 1, enabled: false }
  - name: sim-file
    kind: simulator
    settings: { answerWords: 5 }
    deployments:
      - { modelName: sim-chat, upstreamModel: sim }
scaling:
  active: night
  policies:
    - name: night
      spec:
        minReplicas: 2
        maxReplicas: 6
        cpu: { scaleUpAtPercent: 75, scaleDownAtPercent: 25 }
        behavior:
          scaleUp: { stabilizationWindowSeconds: 30, policies: [{ type: Pods, value: 2, periodSeconds: 60 }] }
          scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: Percent, value: 10, periodSeconds: 60 }] }
alertRules:
  - { id: cpu_high, threshold: 85, forSeconds: 120 }
  - { id: error_rate_high, webhookUrl: { env: HOOK }, webhookFormat: slack }
`;

const load = (text: string, vars: Record<string, string> = env) => parseConfigText(text, vars, SECRET, "test.yaml");
const apply = (text: string, vars?: Record<string, string>, dryRun = false) =>
  applyConfig(db.prisma, load(text, vars), { actor: ACTOR, secret: SECRET, dryRun });
const version = async () =>
  (await db.pool.query<{ version: string }>("SELECT version::text FROM config_version")).rows[0]!.version;
const auditCount = () => db.prisma.auditEntry.count();

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_config_file_${randomBytes(4).toString("hex")}`, { migrate: true });
  db = createDatabase({ url: scratch.url, poolMax: 3 });
  setDatabase(db);
  setConfig(parseConfig({ DATABASE_URL: scratch.url, SECRET, NODE_ENV: "test", INSTANCE_ID: "config-file-test" }));
  await seedPolicies(db.prisma);
});
afterAll(async () => {
  setDatabase(undefined);
  await db?.close();
  await scratch?.drop();
});

describe("config:apply", () => {
  let handMade: string;

  it("creates what the file lists, marks it managed, audits each change and bumps the version", async () => {
    handMade = (
      await createProvider(
        db.prisma,
        { kind: "simulator", name: "hand-made", deployments: [{ modelName: "mine", upstreamModel: "x" }] },
        SECRET,
      )
    ).id;
    const versionBefore = await version();

    const dry = await apply(FILE, undefined, true);
    expect(dry.applied).toBe(false);
    expect(await db.prisma.provider.count({ where: { name: "openai" } })).toBe(0);

    const result = await apply(FILE);
    expect(result.applied).toBe(true);
    expect(result.changes.map((c) => `${c.op} ${c.kind} ${c.name}`)).toEqual([
      "create provider openai",
      "create provider sim-file",
      "create scaling policy night",
      "activate scaling policy night",
      "adopt alert rule cpu_high",
      "adopt alert rule error_rate_high",
    ]);
    expect(dry.changes).toEqual(result.changes);
    const text = formatChanges(result.changes);
    expect(text).toContain("+ provider openai: create");
    expect(text).toContain("    threshold: 80 → 85");
    for (const value of Object.values(env)) expect(text).not.toContain(value);

    const openai = await db.prisma.provider.findUniqueOrThrow({
      where: { name: "openai" },
      include: { deployments: { orderBy: { upstreamModel: "asc" } } },
    });
    expect(openai.managedBy).toBe("file");
    expect(decryptSecret(openai.apiKeyEncrypted!, SECRET)).toBe("sk-first");
    expect(openHeaders(openai, SECRET)).toEqual({ "OpenAI-Organization": "org-1" });
    expect(openai.deployments.map((d) => [d.upstreamModel, d.weight, d.enabled, d.managedBy])).toEqual([
      ["gpt-4o", 3, true, "file"],
      ["gpt-4o-mini", 1, false, "file"],
    ]);
    const night = await db.prisma.scalingPolicy.findUniqueOrThrow({ where: { name: "night" } });
    expect([night.active, night.managedBy]).toEqual([true, "file"]);
    const cpu = await db.prisma.alertRule.findUniqueOrThrow({ where: { id: "cpu_high" } });
    expect([cpu.threshold, cpu.forSeconds, cpu.windowSeconds, cpu.managedBy]).toEqual([85, 120, 60, "file"]);
    const errors = await db.prisma.alertRule.findUniqueOrThrow({ where: { id: "error_rate_high" } });
    expect([errors.webhookUrl, errors.webhookFormat]).toEqual([env.HOOK, "slack"]);

    expect(BigInt(await version())).toBeGreaterThan(BigInt(versionBefore));
    const entries = await db.prisma.auditEntry.findMany({ orderBy: { id: "asc" } });
    expect(entries.map((e) => e.action)).toEqual([
      "provider.create",
      "provider.create",
      "scaling_policy.save",
      "scaling_policy.activate",
      "alert_rule.update",
      "alert_rule.update",
      "config.apply",
    ]);
    expect(new Set(entries.map((e) => e.actorEmail))).toEqual(new Set(["cli:test"]));
    const logged = JSON.stringify(entries, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    for (const value of Object.values(env)) expect(logged).not.toContain(value);
    expect(await db.prisma.provider.findUnique({ where: { id: handMade } })).toMatchObject({ managedBy: null });
  });

  it("applied again changes nothing: no write, no audit entry, no version bump", async () => {
    const [versionBefore, entriesBefore] = [await version(), await auditCount()];
    const result = await apply(FILE);
    expect(result).toMatchObject({ applied: false, changes: [] });
    expect(formatChanges(result.changes)).toBe("No changes: the database already matches the file.\n");
    expect(await version()).toBe(versionBefore);
    expect(await auditCount()).toBe(entriesBefore);
  });

  it("a change updates only what differs; a rotated variable is a change shown without its value", async () => {
    const changed = FILE.replace("weight: 3", "weight: 5");
    const result = await apply(changed, { ...env, OPENAI_KEY: "sk-rotated" });
    expect(result.changes).toEqual([
      {
        op: "update",
        kind: "provider",
        name: "openai",
        fields: [
          { field: "apiKey", before: "(set)", after: "(changed)" },
          {
            field: "deployments",
            before: "gpt=gpt-4o-mini×1 (off), gpt=gpt-4o×3",
            after: "gpt=gpt-4o-mini×1 (off), gpt=gpt-4o×5",
          },
        ],
      },
    ]);
    const openai = await db.prisma.provider.findUniqueOrThrow({ where: { name: "openai" }, include: { deployments: true } });
    expect(decryptSecret(openai.apiKeyEncrypted!, SECRET)).toBe("sk-rotated");
    expect(openHeaders(openai, SECRET)).toEqual({ "OpenAI-Organization": "org-1" });
    expect(openai.deployments.find((d) => d.upstreamModel === "gpt-4o")?.weight).toBe(5);
  });

  it("the console refuses to change what the file manages, with a 409 in its error shape", async () => {
    const admin = await createUser(db.prisma, { email: "admin@config.test", role: "admin", password: "admin-password-123" });
    const cookie = await sessionCookie({ id: admin.id, email: admin.email, role: "admin" });
    const openai = await db.prisma.provider.findUniqueOrThrow({ where: { name: "openai" } });
    const patch = await callConsoleHandler(updateProvider, {
      cookie,
      method: "PATCH",
      params: { id: openai.id },
      body: { enabled: false },
    });
    expect(patch.status).toBe(409);
    expect(await patch.json()).toEqual({
      error: expect.objectContaining({
        code: "managed_by_file",
        message: expect.stringContaining('Provider "openai" is managed by the configuration file'),
      }),
    });
    const remove = await callConsoleHandler(deleteProvider, { cookie, method: "DELETE", params: { id: openai.id } });
    expect(remove.status).toBe(409);
    const handPatch = await callConsoleHandler(updateProvider, {
      cookie,
      method: "PATCH",
      params: { id: handMade },
      body: { enabled: true },
    });
    expect(handPatch.status).toBe(200);

    await expect(updateAlertRule(db.prisma, "cpu_high", { threshold: 50 })).rejects.toMatchObject({
      status: 409,
      code: "managed_by_file",
    });
    await expect(
      savePolicy(
        db.prisma,
        { name: "night", spec: (await db.prisma.scalingPolicy.findUniqueOrThrow({ where: { name: "night" } })).spec as never },
        SYSTEM_ACTOR,
      ),
    ).rejects.toMatchObject({ status: 409, code: "managed_by_file" });
    await expect(activatePolicy(db.prisma, "balanced", SYSTEM_ACTOR, "by hand")).rejects.toMatchObject({
      status: 409,
      code: "managed_by_file",
    });
    // Rules the file does not name stay editable.
    await expect(updateAlertRule(db.prisma, "memory_high", { threshold: 91 })).resolves.toMatchObject({
      after: { threshold: 91, managedBy: null },
    });
  });

  it("removing objects from the file removes what it managed and never what was made by hand", async () => {
    const shrunk = `
version: 1
providers:
  - name: sim-file
    kind: simulator
    settings: { answerWords: 5 }
    deployments:
      - { modelName: sim-chat, upstreamModel: sim }
scaling:
  active: balanced
alertRules:
  - { id: cpu_high, threshold: 85, forSeconds: 120 }
`;
    const result = await apply(shrunk);
    expect(result.changes.map((c) => `${c.op} ${c.kind} ${c.name}`)).toEqual([
      "delete provider openai",
      "activate scaling policy balanced",
      "delete scaling policy night",
      "release alert rule error_rate_high",
    ]);
    expect(await db.prisma.provider.findUnique({ where: { name: "openai" } })).toBeNull();
    expect(await db.prisma.deployment.count({ where: { upstreamModel: { startsWith: "gpt-4o" } } })).toBe(0);
    expect(await db.prisma.provider.findUnique({ where: { id: handMade } })).not.toBeNull();
    expect(await db.prisma.scalingPolicy.findUnique({ where: { name: "night" } })).toBeNull();
    expect((await db.prisma.scalingPolicy.findFirstOrThrow({ where: { active: true } })).name).toBe("balanced");
    // Released: it keeps the terms the file gave it and is the console's again.
    const released = await db.prisma.alertRule.findUniqueOrThrow({ where: { id: "error_rate_high" } });
    expect([released.managedBy, released.webhookFormat]).toEqual([null, "slack"]);
    await expect(updateAlertRule(db.prisma, "error_rate_high", { webhookFormat: null })).resolves.toBeDefined();
  });

  it("a file with errors changes nothing and names the path of every error", async () => {
    const [versionBefore, entriesBefore] = [await version(), await auditCount()];
    const bad = `
version: 1
providers:
  - name: sim-file
    kind: simulator
    deployments:
      - { modelName: sim-chat, upstreamModel: sim, weight: -1 }
  - name: keyed
    kind: openai_compatible
    baseUrl: http://127.0.0.1:9/v1
    apiKey: { env: NOT_SET_ANYWHERE }
scaling:
  policies:
    - { name: balanced, spec: { minReplicas: 1, maxReplicas: 2, cpu: { scaleUpAtPercent: 70, scaleDownAtPercent: 30 }, behavior: { scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 1, periodSeconds: 60 }] }, scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: Pods, value: 1, periodSeconds: 60 }] } } } }
alertRules:
  - { id: cpu_high, threshold: 150 }
`;
    let refused: unknown;
    try {
      load(bad);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConfigFileError);
    expect((refused as ConfigFileError).issues.map((i) => i.path)).toEqual(["providers[0].deployments[0].weight"]);

    // Schema-valid, but with problems only the environment and the database reveal: all reported at once.
    const fixed = bad.replace("weight: -1", "weight: 2").replace("name: balanced,", "name: mine,");
    expect(() => load(fixed)).toThrow(/providers\[1\]\.apiKey\.env: environment variable NOT_SET_ANYWHERE is not set/);
    const unknownRule = fixed
      .replace("{ env: NOT_SET_ANYWHERE }", "{ env: OPENAI_KEY }")
      .concat("  - { id: no_such_rule, threshold: 1 }\n");
    const error = await apply(unknownRule).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigFileError);
    expect((error as ConfigFileError).issues).toEqual([
      { path: "alertRules[0].threshold", message: "cpu_percent is a percentage: the threshold must be above 0 and at most 100" },
      { path: "alertRules[1].id", message: expect.stringContaining('no alert rule "no_such_rule"') },
    ]);
    expect((error as Error).message).toContain("nothing applied");
    expect(await version()).toBe(versionBefore);
    expect(await auditCount()).toBe(entriesBefore);
    expect(await db.prisma.provider.findUnique({ where: { name: "keyed" } })).toBeNull();
    expect(await db.prisma.scalingPolicy.findUnique({ where: { name: "mine" } })).toBeNull();
  });

  it("refuses YAML errors, unknown keys and inline credentials with their paths", () => {
    expect(() => load("version: 1\nproviders: [\n")).toThrow(ConfigFileError);
    const issues = (text: string) => {
      try {
        load(text);
        return [];
      } catch (error) {
        return (error as ConfigFileError).issues.map((i) => i.path);
      }
    };
    expect(issues("version: 1\nprovider: []\n")).toEqual([""]);
    expect(
      issues("version: 1\nproviders:\n  - { name: a, kind: openai_compatible, baseUrl: 'http://x', apiKey: sk-inline }\n"),
    ).toEqual(["providers[0].apiKey"]);
    expect(issues("version: 1\nproviders:\n  - { name: a, kind: simulator }\n  - { name: a, kind: simulator }\n")).toEqual([
      "providers[1].name",
    ]);
    expect(issues("version: 2\n")).toEqual(["version"]);
  });
});

describe("the start-up apply's wait", () => {
  const WAIT_FILE = "version: 1\nalertRules:\n  - { id: memory_high, threshold: 93 }\n";
  const start = (waitMs: number, messages: string[]) =>
    applyConfigFileAtStart({
      database: db,
      loaded: load(WAIT_FILE),
      secret: SECRET,
      holder: "waiting-instance",
      instanceId: "waiting-instance",
      waitMs,
      logger: pino({ level: "info" }, { write: (line: string) => void messages.push(JSON.parse(line).msg) }),
    });

  it("gives up after CONFIG_FILE_WAIT_MS while another holder keeps the lease without applying", async () => {
    const other = (await acquireLease(db.pool, CONFIG_FILE_LEASE, { holder: "stuck-instance", ttlMs: 60_000 }))!;
    const messages: string[] = [];
    try {
      const started = Date.now();
      await expect(start(1_000, messages)).resolves.toBe("timed_out");
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(messages).toEqual([
        "another instance is applying the configuration file; waiting",
        "the configuration file was not applied in time; serving the database's configuration",
      ]);
      expect((await db.prisma.alertRule.findUniqueOrThrow({ where: { id: "memory_high" } })).threshold).not.toBe(93);
    } finally {
      await releaseLease(db.pool, other);
    }
  });

  it("waits while another holder applies, and ends as soon as that file is in force", async () => {
    const other = (await acquireLease(db.pool, CONFIG_FILE_LEASE, { holder: "applying-instance", ttlMs: 60_000 }))!;
    const messages: string[] = [];
    const waiting = start(30_000, messages);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await applyConfig(db.prisma, load(WAIT_FILE), { actor: ACTOR, secret: SECRET });
    await releaseLease(db.pool, other);
    await expect(waiting).resolves.toBe("in_force");
    expect(messages).toEqual([
      "another instance is applying the configuration file; waiting",
      "configuration file applied by another instance",
    ]);
    expect((await db.prisma.alertRule.findUniqueOrThrow({ where: { id: "memory_high" } })).threshold).toBe(93);
  });
});
