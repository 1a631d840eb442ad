// Runs Prisma.sql statements on a pg pool or client (Prisma parameterises, pg executes, so statements
// can join a transaction held on a checked-out client).
import type pg from "pg";
import { Prisma } from "../../platform/db/generated/client";
import type { Queryable } from "../../platform/db/client";

export { Prisma, type Queryable };

export async function rows<R extends pg.QueryResultRow>(db: Queryable, statement: Prisma.Sql): Promise<R[]> {
  return (await db.query<R>(statement.text, statement.values)).rows;
}

export async function run(db: Queryable, statement: Prisma.Sql): Promise<number> {
  return (await db.query(statement.text, statement.values)).rowCount ?? 0;
}
