// How far the stored rollups are final. The leader rolls every 10 s row into its minute row, and
// the fleet's own row, in the transaction that clears its dirty flag; every minute row into its
// 10-minute row the same way (lib/platform/metrics-history/rollup.ts). So a coarse row, or a fleet
// row, is exactly the sum of the rows below it once none of those is dirty: everything before the
// oldest dirty row of each finer resolution. Read through the (dirty, resolution, bucket) index.
import { Prisma, rows, type Queryable } from "../sql";

/** Per resolution: Unix ms by which a row of it, the fleet's included, must end to be complete. */
export type Completeness = Record<10 | 60 | 600, number>;

/** Nothing known to be complete: coarse and fleet rows are read only where nothing finer is kept. */
export const NOTHING_COMPLETE: Completeness = { 10: -Infinity, 60: -Infinity, 600: -Infinity };

export async function readCompleteness(db: Queryable): Promise<Completeness> {
  const [oldest] = await rows<{ dirty10: Date | null; dirty60: Date | null }>(
    db,
    Prisma.sql`
      SELECT (SELECT min(bucket) FROM metric_rollups WHERE dirty AND resolution = 10) AS dirty10,
             (SELECT min(bucket) FROM metric_rollups WHERE dirty AND resolution = 60) AS dirty60`,
  );
  const tens = oldest?.dirty10?.getTime() ?? Infinity;
  const minutes = oldest?.dirty60?.getTime() ?? Infinity;
  return { 10: tens, 60: tens, 600: Math.min(tens, minutes) };
}
