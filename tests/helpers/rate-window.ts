// Rate-limit windows are fixed minutes of database time: a burst that straddles a minute's end
// lands in two windows and may legitimately be admitted twice over.
import type pg from "pg";

/**
 * Waits until the database clock is at least `marginSeconds` before the end of its minute, so a
 * burst that takes less than that stays in one window. Bounded: at most about a minute.
 */
export async function awayFromMinuteEnd(db: Pick<pg.Pool, "query">, marginSeconds = 10): Promise<void> {
  for (let i = 0; i < 130; i++) {
    const { rows } = await db.query<{ s: number }>("SELECT extract(second FROM now())::float AS s");
    if (rows[0]!.s < 60 - marginSeconds) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("the database clock never left the end of its minute");
}
