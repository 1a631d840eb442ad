// Real PostgreSQL for tests: DATABASE_URL's server when set, else 127.0.0.1:5432 (user postgres).
import pg from "pg";
import { applyMigrations } from "../../lib/db/migrate";

export function adminUrl(): string {
  const url = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres");
  url.pathname = "/postgres";
  return url.toString();
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database (optionally migrated) that the caller drops. */
export async function createScratchDatabase(name: string, { migrate = false } = {}): Promise<ScratchDatabase> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  await admin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  if (migrate) {
    const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      await applyMigrations(pool);
    } finally {
      await pool.end();
    }
  }
  return {
    name,
    url: url.toString(),
    drop: () => admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => {}),
  };
}
