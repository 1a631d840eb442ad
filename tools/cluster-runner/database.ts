// The cluster's PostgreSQL: DATABASE_URL when given, else the local server's `agenticorp_cluster`
// database, created when missing so that `npm run cluster` works on a fresh machine.
import pg from "pg";

export const DEFAULT_CLUSTER_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/agenticorp_cluster";

const INVALID_CATALOG_NAME = "3D000";

/** Creates the URL's database when it does not exist (connecting to `postgres` on the same server). */
export async function ensureDatabase(url: string): Promise<"existed" | "created"> {
  const probe = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await probe.connect();
    return "existed";
  } catch (error) {
    if ((error as { code?: string }).code !== INVALID_CATALOG_NAME) throw error;
  } finally {
    await probe.end().catch(() => {});
  }
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!/^[A-Za-z0-9_]{1,63}$/.test(name))
    throw new Error(`will not create a database named ${JSON.stringify(name)}: letters, digits and _ only`);
  const maintenance = new URL(url);
  maintenance.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5_000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } catch (error) {
    // Another runner created it meanwhile.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await admin.end();
  }
  return "created";
}

/** The URL with credentials hidden, for printing. */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
