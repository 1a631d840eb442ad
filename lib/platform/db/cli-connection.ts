// Database access for the admin CLIs: DATABASE_URL when set; else the embedded database that a
// running `npm start` serves from the same data folder; else the embedded database started here.
import { getConfig } from "../config";
import { createDatabase, type Database } from "./client";
import { runningEmbeddedUrl, startEmbeddedPostgres } from "./embedded";
import { applyMigrations } from "./migrate";

export async function withCliDatabase<T>(work: (database: Database) => Promise<T>): Promise<T> {
  const config = getConfig();
  const shared = config.DATABASE_URL ?? (await runningEmbeddedUrl(config.DATA_DIR));
  const embedded = shared ? undefined : await startEmbeddedPostgres(config.DATA_DIR);
  const database = createDatabase({ url: shared ?? embedded!.url, poolMax: 1 });
  try {
    await applyMigrations(database.pool);
    return await work(database);
  } finally {
    await database.close();
    await embedded?.stop();
  }
}
