-- The fleet's own rows in metric_rollups (instance_id '*'): every instance's rows of a bucket added
-- up, so that fleet-wide charts read one row per bucket (lib/platform/metrics-history/rollup.ts keeps
-- them from now on). This fills them in for the rows already stored. The array lengths are the
-- stored layouts of lib/platform/metrics-history/layout.ts (5 endpoints, 14 + 1 latency and query buckets).
INSERT INTO "metric_rollups" (
  resolution, instance_id, bucket, seconds, samples,
  requests_2xx, requests_3xx, requests_4xx, requests_5xx, requests_by_endpoint,
  latency_buckets, latency_sum_seconds, cache_hits, cache_misses, cache_bypass,
  cpu_seconds, rss_bytes_sum, rss_bytes_max, memory_limit_bytes,
  in_flight_sum, in_flight_max, connections_sum, connections_max,
  db_pool_total_sum, db_pool_in_use_sum, db_pool_waiting_sum, db_pool_waiting_max,
  db_query_buckets, db_query_sum_seconds, db_query_errors, upstream_auth_rejected, dirty, last_snapshot_at)
SELECT resolution, '*', bucket, sum(seconds), sum(samples),
  sum(requests_2xx), sum(requests_3xx), sum(requests_4xx), sum(requests_5xx), ARRAY[coalesce(sum(requests_by_endpoint[1]), 0), coalesce(sum(requests_by_endpoint[2]), 0), coalesce(sum(requests_by_endpoint[3]), 0), coalesce(sum(requests_by_endpoint[4]), 0), coalesce(sum(requests_by_endpoint[5]), 0)]::bigint[],
  ARRAY[coalesce(sum(latency_buckets[1]), 0), coalesce(sum(latency_buckets[2]), 0), coalesce(sum(latency_buckets[3]), 0), coalesce(sum(latency_buckets[4]), 0), coalesce(sum(latency_buckets[5]), 0), coalesce(sum(latency_buckets[6]), 0), coalesce(sum(latency_buckets[7]), 0), coalesce(sum(latency_buckets[8]), 0), coalesce(sum(latency_buckets[9]), 0), coalesce(sum(latency_buckets[10]), 0), coalesce(sum(latency_buckets[11]), 0), coalesce(sum(latency_buckets[12]), 0), coalesce(sum(latency_buckets[13]), 0), coalesce(sum(latency_buckets[14]), 0), coalesce(sum(latency_buckets[15]), 0)]::bigint[], sum(latency_sum_seconds),
  sum(cache_hits), sum(cache_misses), sum(cache_bypass),
  sum(cpu_seconds), sum(rss_bytes_sum), max(rss_bytes_max), max(memory_limit_bytes),
  sum(in_flight_sum), max(in_flight_max), sum(connections_sum), max(connections_max),
  sum(db_pool_total_sum), sum(db_pool_in_use_sum), sum(db_pool_waiting_sum), max(db_pool_waiting_max),
  ARRAY[coalesce(sum(db_query_buckets[1]), 0), coalesce(sum(db_query_buckets[2]), 0), coalesce(sum(db_query_buckets[3]), 0), coalesce(sum(db_query_buckets[4]), 0), coalesce(sum(db_query_buckets[5]), 0), coalesce(sum(db_query_buckets[6]), 0), coalesce(sum(db_query_buckets[7]), 0), coalesce(sum(db_query_buckets[8]), 0), coalesce(sum(db_query_buckets[9]), 0), coalesce(sum(db_query_buckets[10]), 0), coalesce(sum(db_query_buckets[11]), 0), coalesce(sum(db_query_buckets[12]), 0), coalesce(sum(db_query_buckets[13]), 0), coalesce(sum(db_query_buckets[14]), 0), coalesce(sum(db_query_buckets[15]), 0)]::bigint[], sum(db_query_sum_seconds), sum(db_query_errors), sum(upstream_auth_rejected),
  false, max(last_snapshot_at)
FROM "metric_rollups"
WHERE instance_id <> '*'
GROUP BY resolution, bucket
ON CONFLICT (resolution, instance_id, bucket) DO NOTHING;
