// Runs Prisma.sql statements on a pg pool or client: Prisma builds and parameterises the SQL, pg
// executes it (so it can join a transaction held on a pooled client, as fenced writes need).
import type pg from "pg";
import { inFencedTransaction } from "../coordination/lease";
import { Prisma } from "../db/generated/client";
import type { Queryable } from "../db/client";
import { withClient } from "../db/with-client";

export { inFencedTransaction, withClient, type Queryable };

export async function run<R extends pg.QueryResultRow = pg.QueryResultRow>(
  db: Queryable,
  statement: Prisma.Sql,
): Promise<pg.QueryResult<R>> {
  return db.query<R>(statement.text, statement.values);
}

export async function rows<R extends pg.QueryResultRow>(db: Queryable, statement: Prisma.Sql): Promise<R[]> {
  return (await run<R>(db, statement)).rows;
}

export { Prisma };
