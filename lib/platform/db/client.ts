// The process's one PostgreSQL pool and one Prisma client over it. Kept on globalThis so the
// Next.js bundle's copy of this module uses the same pool as the Fastify side.
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client";
import { instrumentPool } from "../metrics/db";

export interface Database {
  url: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** A pool or a checked-out client: enough for statements that need no transaction of their own. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

export interface DatabaseOptions {
  url: string;
  poolMax: number;
  onPoolError?: (error: Error) => void;
  /**
   * application_name of the pool's connections. One name for every instance on purpose: PgBouncer
   * (transaction pooling) re-sends a differing application_name with a SET each time it hands a
   * server connection to another client, which doubled an idle fleet's transactions.
   */
  applicationName?: string;
}

export function createDatabase({ url, poolMax, onPoolError, applicationName = "agenticorp" }: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    application_name: applicationName,
  });
  // An idle client losing its server (database restart) must not crash the process.
  pool.on("error", (error) => onPoolError?.(error));
  instrumentPool(pool);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    url,
    pool,
    prisma,
    async close() {
      await prisma.$disconnect().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}

const holder = globalThis as typeof globalThis & { __agenticorpDatabase?: Database };

export function setDatabase(database: Database | undefined): void {
  holder.__agenticorpDatabase = database;
}

export function getDatabase(): Database {
  const database = holder.__agenticorpDatabase;
  if (!database) throw new Error("The database is not initialised in this process");
  return database;
}
