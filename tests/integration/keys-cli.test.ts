// The key CLIs, run as an operator runs them (the real scripts under tsx, against this run's
// PostgreSQL database): keys they create or revoke land in the audit log like the console's,
// named after the operating-system user, and the log holds neither the key nor its hash.
import { execFile } from "node:child_process";
import os from "node:os";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { hashApiKey } from "../../lib/data-plane/keys/api-keys";
import { PROJECT_ROOT } from "../../lib/platform/version";

const run = promisify(execFile);
let database: Database;

function cli(script: string, args: string[]) {
  return run(process.execPath, ["--import", "tsx", `scripts/${script}.ts`, ...args], {
    cwd: PROJECT_ROOT,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      DATABASE_URL: inject("databaseUrl"),
      SECRET: "keys-cli-test-secret-0123456789abcdef",
      LOG_LEVEL: "silent",
    },
  });
}

beforeAll(() => {
  database = createDatabase({ url: inject("databaseUrl"), poolMax: 2 });
});
afterAll(async () => {
  await database.close();
});

describe("keys:create and keys:revoke", { timeout: 120_000 }, () => {
  it("write audit entries naming cli:<os user>, without the key or its hash", async () => {
    const name = `cli-key-${Date.now()}`;
    const created = await cli("keys-create", ["--name", name, "--rpm", "60"]);
    const key = created.stdout.trim();
    expect(key).toMatch(/^ak-/);
    const row = await database.prisma.apiKey.findUniqueOrThrow({ where: { keyHash: hashApiKey(key) } });

    await cli("keys-revoke", ["--id", row.id]);
    const entries = await database.prisma.auditEntry.findMany({ where: { targetId: row.id }, orderBy: { id: "asc" } });
    const actor = `cli:${os.userInfo().username}`;
    expect(entries.map((e) => [e.action, e.actorEmail, e.actorId])).toEqual([
      ["key.create", actor, null],
      ["key.revoke", actor, null],
    ]);
    expect(entries[0]!.after).toMatchObject({ id: row.id, name, rpmLimit: 60, revokedAt: null });
    expect(entries[1]!.after).toMatchObject({ id: row.id, revokedAt: expect.any(String) });
    const text = JSON.stringify(entries, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    expect(text).not.toContain(key);
    expect(text).not.toContain(row.keyHash);
  });

  it("refuses to revoke a key twice, with a clear message and no second entry", async () => {
    const key = (await cli("keys-create", ["--name", `twice-${Date.now()}`])).stdout.trim();
    const row = await database.prisma.apiKey.findUniqueOrThrow({ where: { keyHash: hashApiKey(key) } });
    await cli("keys-revoke", ["--id", row.id]);
    await expect(cli("keys-revoke", ["--id", row.id])).rejects.toMatchObject({
      code: 2,
      stderr: "keys:revoke: This key is already revoked.\n",
    });
    expect(await database.prisma.auditEntry.count({ where: { targetId: row.id, action: "key.revoke" } })).toBe(1);
  });
});
