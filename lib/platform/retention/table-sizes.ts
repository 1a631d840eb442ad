// The size of each growing table, cheaply: the planner's row estimate and the files' size, no scan
// (a table never analysed yet is counted, which is cheap while it is young).
import type { Queryable } from "../db/client";
import { Prisma, rows } from "../metrics-history/sql";
import { GROWING_TABLES, type GrowingTable } from "./batched-delete";

export interface TableSize {
  table: GrowingTable;
  rows: number;
  bytes: number;
}

export async function readTableSizes(db: Queryable): Promise<TableSize[]> {
  const found = await rows<{ table: GrowingTable; estimate: number; bytes: string }>(
    db,
    Prisma.sql`SELECT t AS table, c.reltuples::float8 AS estimate, pg_total_relation_size(c.oid) AS bytes
               FROM unnest(${[...GROWING_TABLES]}::text[]) AS t JOIN pg_class c ON c.oid = to_regclass(t)`,
  );
  const sizes: TableSize[] = [];
  for (const { table, estimate, bytes } of found) {
    const counted =
      estimate < 0 ? await rows<{ n: string }>(db, Prisma.sql`SELECT count(*) AS n FROM ${Prisma.raw(`"${table}"`)}`) : undefined;
    sizes.push({ table, rows: counted ? Number(counted[0]!.n) : Math.round(estimate), bytes: Number(bytes) });
  }
  return sizes;
}
