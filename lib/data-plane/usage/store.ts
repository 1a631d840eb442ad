// Writes one flush of this instance's usage rows into usage_buckets (1 min resolution) in one
// statement. Rows merge by adding; each row remembers the newest flush merged in, so a flush
// retried after an ambiguous failure (committed, but the answer lost) is not counted twice. That
// guard holds because an instance writes its flushes strictly in order (lib/data-plane/usage/flusher.ts).
import type { Queryable } from "../../platform/db/client";
import type { UsageRow } from "./accumulator";

const USAGE_BASE_RESOLUTION_SECONDS = 60;

const WRITE_SQL = `
INSERT INTO usage_buckets (resolution, instance_id, bucket, key_id, model, deployment, endpoint, status_class,
  requests, prompt_tokens, completion_tokens, cached_tokens, cost_usd, cache_hits, saved_usd, dirty, last_flush_at)
SELECT ${USAGE_BASE_RESOLUTION_SECONDS}, $1::text, to_timestamp(u.bucket_ms / 1000.0), u.key_id, u.model, u.deployment, u.endpoint, u.status_class,
  u.requests, u.prompt_tokens, u.completion_tokens, u.cached_tokens, u.cost_usd, u.cache_hits, u.saved_usd, true, to_timestamp($2::float8 / 1000.0)
FROM unnest($3::float8[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[],
  $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::float8[], $14::bigint[], $15::float8[])
  AS u(bucket_ms, key_id, model, deployment, endpoint, status_class, requests, prompt_tokens, completion_tokens, cached_tokens, cost_usd, cache_hits, saved_usd)
ON CONFLICT (resolution, instance_id, bucket, key_id, model, deployment, endpoint, status_class) DO UPDATE SET
  requests = usage_buckets.requests + EXCLUDED.requests,
  prompt_tokens = usage_buckets.prompt_tokens + EXCLUDED.prompt_tokens,
  completion_tokens = usage_buckets.completion_tokens + EXCLUDED.completion_tokens,
  cached_tokens = usage_buckets.cached_tokens + EXCLUDED.cached_tokens,
  cost_usd = usage_buckets.cost_usd + EXCLUDED.cost_usd,
  cache_hits = usage_buckets.cache_hits + EXCLUDED.cache_hits,
  saved_usd = usage_buckets.saved_usd + EXCLUDED.saved_usd,
  dirty = true,
  last_flush_at = EXCLUDED.last_flush_at
WHERE usage_buckets.last_flush_at < EXCLUDED.last_flush_at`;

/** One flush: its rows and when it was taken (Unix ms, increasing per instance). */
export interface UsageBatch {
  at: number;
  rows: UsageRow[];
}

export async function writeUsageBatch(db: Queryable, instanceId: string, batch: UsageBatch): Promise<void> {
  const r = batch.rows;
  if (r.length === 0) return;
  await db.query(WRITE_SQL, [
    instanceId,
    batch.at,
    r.map((x) => x.bucket),
    r.map((x) => x.keyId),
    r.map((x) => x.model),
    r.map((x) => x.deployment),
    r.map((x) => x.endpoint),
    r.map((x) => x.statusClass),
    r.map((x) => x.requests),
    r.map((x) => x.promptTokens),
    r.map((x) => x.completionTokens),
    r.map((x) => x.cachedTokens),
    r.map((x) => x.costUsd),
    r.map((x) => x.cacheHits),
    r.map((x) => x.savedUsd),
  ]);
}
