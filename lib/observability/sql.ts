// Runs Prisma.sql statements on a pg pool or client: Prisma builds and parameterises the SQL, pg
// executes it (so it can join a transaction held on a pooled client, as fenced writes need).
import type pg from "pg";
import { assertFence, FencedWriteRefused, type Fence } from "../cluster/lease";
import { Prisma } from "../db/generated/client";
import { withClient } from "../db/with-client";

export { withClient };

export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

export async function run<R extends pg.QueryResultRow = pg.QueryResultRow>(db: Queryable, statement: Prisma.Sql): Promise<pg.QueryResult<R>> {
  return db.query<R>(statement.text, statement.values as unknown[]);
}

export async function rows<R extends pg.QueryResultRow>(db: Queryable, statement: Prisma.Sql): Promise<R[]> {
  return (await run<R>(db, statement)).rows;
}

/**
 * `work` in one transaction that holds the proof that `fence` is the current lease until it
 * commits (lib/cluster/lease.ts). Resolves to null, having written nothing, when it is not.
 */
export async function inFencedTransaction<T>(pool: pg.Pool, fence: Fence, work: (client: pg.PoolClient) => Promise<T>): Promise<T | null> {
  return withClient(pool, async (client) => {
    await client.query("BEGIN");
    try {
      await assertFence(client, fence);
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      if (error instanceof FencedWriteRefused) return null;
      throw error;
    }
  });
}

export { Prisma };
