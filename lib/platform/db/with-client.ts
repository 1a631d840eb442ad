// Checking a client out of a pg pool safely. A connection that dies while checked out emits
// "error" on its client, and an unheard "error" ends the process; here it is heard, the query in
// progress (or the next) fails with it, and the broken connection is discarded, not pooled again.
import type pg from "pg";

export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    return await work(client);
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}
