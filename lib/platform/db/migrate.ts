// Applies the committed migrations under prisma/migrations at start. All instances may call it
// at once: a transaction-scoped advisory lock lets one apply while the others wait, and it holds
// no session state, so it is safe through PgBouncer in transaction pooling mode. The bookkeeping
// table is Prisma's own, so `prisma migrate status` and `migrate deploy` agree with it.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";
import { PROJECT_ROOT } from "../version";
import { withClient } from "./with-client";

const MIGRATIONS_DIR = path.join(PROJECT_ROOT, "prisma", "migrations");
// An arbitrary constant naming "the AgentiCorp migration lock" among advisory locks.
const MIGRATION_LOCK_KEY = 7_219_451_118;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

class MigrationError extends Error {
  override name = "MigrationError";
}

/** Returns the names of the migrations this call applied (empty when another instance had). */
export async function applyMigrations(pool: pg.Pool, migrations?: Migration[]): Promise<string[]> {
  const wanted = migrations ?? (await readMigrations());
  return withClient(pool, async (client) => {
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
        "id" VARCHAR(36) PRIMARY KEY NOT NULL,
        "checksum" VARCHAR(64) NOT NULL,
        "finished_at" TIMESTAMPTZ,
        "migration_name" VARCHAR(255) NOT NULL,
        "logs" TEXT,
        "rolled_back_at" TIMESTAMPTZ,
        "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
        "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
      const { rows } = await client.query<{ migration_name: string; checksum: string }>(
        `SELECT migration_name, checksum FROM "_prisma_migrations"
         WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      );
      const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]));
      const pending: Migration[] = [];
      for (const migration of wanted) {
        const checksum = applied.get(migration.name);
        if (checksum === undefined) pending.push(migration);
        else if (checksum !== migration.checksum) {
          throw new MigrationError(`Migration ${migration.name} was changed after it was applied (checksum differs)`);
        }
      }
      for (const migration of pending) {
        try {
          await client.query(migration.sql);
        } catch (error) {
          throw new MigrationError(`Migration ${migration.name} failed: ${(error as Error).message}`);
        }
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
      }
      await client.query("COMMIT");
      return pending.map((m) => m.name);
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  });
}
