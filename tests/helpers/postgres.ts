// Real PostgreSQL for tests: DATABASE_URL's server when set, else 127.0.0.1:5432 (user postgres).
import pg from "pg";
import { applyMigrations } from "../../lib/platform/db/migrate";

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
    drop: () =>
      admin(async (client) => {
        // pg's Pool.end() resolves before its sockets have closed. A connection still closing when
        // FORCE terminates it gets an error its client no longer listens for, an uncaught
        // exception in the test process: closing connections get up to a second to go.
        for (let wait = 0; wait < 20; wait++) {
          const { rows } = await client.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1",
            [name],
          );
          if (rows[0]!.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      }),
  };
}
