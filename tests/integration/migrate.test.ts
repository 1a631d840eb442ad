import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { applyMigrations, readMigrations } from "../../lib/platform/db/migrate";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";

const scratch: ScratchDatabase[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((db) => db.drop()));
});

async function freshDatabase() {
  const db = await createScratchDatabase(`agenticorp_migrate_${randomBytes(4).toString("hex")}`);
  scratch.push(db);
  return db;
}

describe("applyMigrations", () => {
  it("applies every migration exactly once when eight instances start at the same moment", async () => {
    const db = await freshDatabase();
    const pools = Array.from({ length: 8 }, () => new pg.Pool({ connectionString: db.url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((pool) => applyMigrations(pool)));
      const migrations = await readMigrations();
      expect(migrations.length).toBeGreaterThan(0);
      // One caller applied them all; the others waited on the lock and found nothing to do.
      expect(results.filter((applied) => applied.length > 0)).toEqual([migrations.map((m) => m.name)]);
      const { rows } = await pools[0]!.query(
        `SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY 1 ORDER BY 1`,
      );
      expect(rows).toEqual(migrations.map((m) => ({ migration_name: m.name, n: 1 })));
      const tables = await pools[0]!.query(`SELECT to_regclass('public.instances') AS t`);
      expect(tables.rows[0].t).toBe("instances");
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it("refuses to start when an applied migration was edited afterwards", async () => {
    const db = await freshDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const migrations = await readMigrations();
      await applyMigrations(pool, migrations);
      const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: "0".repeat(64) } : m));
      await expect(applyMigrations(pool, edited)).rejects.toThrow(/was changed after it was applied/);
    } finally {
      await pool.end();
    }
  });

  it("rolls back a failing migration whole, leaving no half-applied state", async () => {
    const db = await freshDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const broken = [
        { name: "0001_broken", sql: "CREATE TABLE half (id int); SELECT no_such_function();", checksum: "x".repeat(64) },
      ];
      await expect(applyMigrations(pool, broken)).rejects.toThrow(/0001_broken failed/);
      const { rows } = await pool.query(`SELECT to_regclass('public.half') AS t`);
      expect(rows[0].t).toBeNull();
    } finally {
      await pool.end();
    }
  });
});
