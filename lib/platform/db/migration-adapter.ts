// Driver adapter for the Prisma CLI's JavaScript schema engine (prisma.config.ts only).
// Works around prisma/orm#27403: introspection returns the PostgreSQL types `name` (oid 19) and
// `"char"` (oid 18), which adapter-pg cannot decode, so results report them as text (oid 25).
import pg from "pg";
import { parse as parseConnectionString } from "pg-connection-string";
import { PrismaPg } from "@prisma/adapter-pg";

const TEXT_OID = 25;
const UNDECODABLE_OIDS = new Set([18, 19]);

function reportAsText(result: pg.QueryResult | undefined): void {
  for (const field of result?.fields ?? []) {
    if (UNDECODABLE_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
  }
}

class IntrospectionSafeClient extends pg.Client {
  // pg calls query() in both promise and callback styles; patch the result in either.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one override stands for all of pg's query() overloads
  override query(...args: unknown[]): any {
    const last = args[args.length - 1];
    if (typeof last === "function") {
      args[args.length - 1] = (err: Error | null, result: pg.QueryResult) => {
        if (!err) reportAsText(result);
        (last as (e: Error | null, r: pg.QueryResult) => void)(err, result);
      };
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const pending = (super.query as (...a: unknown[]) => unknown)(...args);
    if (pending instanceof Promise) {
      return pending.then((result: pg.QueryResult) => {
        reportAsText(result);
        return result;
      });
    }
    return pending;
  }
}

/** Separate fields rather than one URL, so the shadow database does not land on the main one. */
export function migrationAdapter(databaseUrl = process.env.DATABASE_URL): PrismaPg {
  if (!databaseUrl) throw new Error("DATABASE_URL must be set for the Prisma CLI");
  const { host, port, user, password, database } = parseConnectionString(databaseUrl);
  return new PrismaPg({
    host: host ?? undefined,
    port: port ? Number(port) : undefined,
    user: user ?? undefined,
    password: password ?? undefined,
    database: database ?? undefined,
    idleTimeoutMillis: 100,
    Client: IntrospectionSafeClient,
  });
}
