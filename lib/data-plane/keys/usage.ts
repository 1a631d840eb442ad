// When each API key was last used, without a database round trip per request: the gateway notes
// the time in memory, and the heartbeat flushes what it noted in one statement (at most one row
// written per key per flush). A failed flush keeps its times for the next one.
import type { Queryable } from "../../platform/db/client";

export class KeyUsageRecorder {
  private pending = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Called per authenticated request: one map write. */
  touch(keyId: string): void {
    this.pending.set(keyId, this.now());
  }

  /** Keys noted since the last flush. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Writes the noted times (never moving a key's time backwards); returns how many keys it wrote. */
  async flush(db: Queryable): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = this.pending;
    this.pending = new Map();
    try {
      // A key deleted since it was used is skipped rather than failing the batch on the foreign key.
      const result = await db.query(
        `INSERT INTO api_key_usage (key_id, last_used_at)
         SELECT u.key_id, to_timestamp(u.at_ms / 1000.0) FROM unnest($1::uuid[], $2::float8[]) AS u(key_id, at_ms)
         WHERE EXISTS (SELECT 1 FROM api_keys k WHERE k.id = u.key_id)
         ON CONFLICT (key_id) DO UPDATE SET last_used_at = GREATEST(api_key_usage.last_used_at, excluded.last_used_at)`,
        [[...batch.keys()], [...batch.values()]],
      );
      return result.rowCount ?? batch.size;
    } catch (error) {
      for (const [keyId, at] of batch) if ((this.pending.get(keyId) ?? 0) < at) this.pending.set(keyId, at);
      throw error;
    }
  }
}
