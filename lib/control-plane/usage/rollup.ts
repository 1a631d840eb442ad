// The leader rolls usage minute rows up into 10 min rows, the way metric rollups work
// (lib/platform/metrics-history/rollup.ts): claim a batch of dirty minute rows, clearing the flag,
// then recompute each 10 min bucket they fall in from all of its minute rows. Recomputing, never
// incrementing, makes a repeated run harmless; a row written meanwhile is dirty again and rolled
// up next time. Fenced with the leadership's token.
import type pg from "pg";
import type { Fence } from "../../platform/coordination/lease";
import { inFencedTransaction, Prisma, rows, run } from "../../platform/metrics-history/sql";
import { loggedLeaderJobs } from "../../platform/process/leader-jobs";
import type { SingletonContext } from "../../platform/process/leader-jobs";

const FROM = 60;
const TO = 600;
const BATCH = 5_000;
const MAX_BATCHES_PER_RUN = 20;

/** Rolls up to `batch` dirty minute rows; the number claimed, or null when the fence refused. */
export function rollUpUsage(pool: pg.Pool, fence: Fence, batch = BATCH): Promise<number | null> {
  return inFencedTransaction(pool, fence, async (client) => {
    const claimed = await rows<{ instance_id: string; key_id: string; target: Date }>(
      client,
      Prisma.sql`
        UPDATE usage_buckets SET dirty = false
        WHERE (resolution, instance_id, bucket, key_id, model, deployment, endpoint, status_class) IN (
          SELECT resolution, instance_id, bucket, key_id, model, deployment, endpoint, status_class FROM usage_buckets
          WHERE resolution = ${FROM}::int AND dirty
          ORDER BY bucket LIMIT ${batch}::int
          FOR UPDATE SKIP LOCKED)
        RETURNING instance_id, key_id, date_bin(${TO}::int * interval '1 second', bucket, timestamptz 'epoch') AS target`,
    );
    if (claimed.length === 0) return 0;
    const targets = new Map<string, { id: string; key: string; bucket: Date }>();
    for (const c of claimed)
      targets.set(`${c.instance_id}\u0000${c.key_id}\u0000${c.target.getTime()}`, {
        id: c.instance_id,
        key: c.key_id,
        bucket: c.target,
      });
    const list = [...targets.values()];
    await run(
      client,
      Prisma.sql`
        INSERT INTO usage_buckets (resolution, instance_id, bucket, key_id, model, deployment, endpoint, status_class,
          requests, prompt_tokens, completion_tokens, cached_tokens, cost_usd, cache_hits, saved_usd, dirty, last_flush_at)
        SELECT ${TO}::int, t.instance_id, t.bucket, t.key_id, r.model, r.deployment, r.endpoint, r.status_class,
          sum(r.requests), sum(r.prompt_tokens), sum(r.completion_tokens), sum(r.cached_tokens), sum(r.cost_usd),
          sum(r.cache_hits), sum(r.saved_usd), false, max(r.last_flush_at)
        FROM unnest(${list.map((t) => t.id)}::text[], ${list.map((t) => t.key)}::uuid[], ${list.map((t) => t.bucket.toISOString())}::timestamptz[])
          AS t(instance_id, key_id, bucket)
        JOIN usage_buckets r ON r.resolution = ${FROM}::int AND r.instance_id = t.instance_id AND r.key_id = t.key_id
          AND r.bucket >= t.bucket AND r.bucket < t.bucket + ${TO}::int * interval '1 second'
        GROUP BY t.instance_id, t.bucket, t.key_id, r.model, r.deployment, r.endpoint, r.status_class
        ON CONFLICT (resolution, instance_id, bucket, key_id, model, deployment, endpoint, status_class) DO UPDATE SET
          requests = EXCLUDED.requests, prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens,
          cached_tokens = EXCLUDED.cached_tokens, cost_usd = EXCLUDED.cost_usd, cache_hits = EXCLUDED.cache_hits,
          saved_usd = EXCLUDED.saved_usd, last_flush_at = EXCLUDED.last_flush_at`,
    );
    return claimed.length;
  });
}

/** The leader's usage rollup (pruning is a retention rule: lib/platform/retention/rules.ts). */
export function registerUsageJobs({ leader, holder, database, config, logger }: SingletonContext): void {
  const job = loggedLeaderJobs(leader, logger, "usage");
  job("usage-rollup", config.ROLLUP_INTERVAL_MS, async (token, signal) => {
    for (let batch = 0; batch < MAX_BATCHES_PER_RUN && !signal.aborted; batch++) {
      const claimed = await rollUpUsage(database.pool, { name: "leader", holder, token });
      if (claimed === null || claimed < BATCH) return;
    }
  });
}
