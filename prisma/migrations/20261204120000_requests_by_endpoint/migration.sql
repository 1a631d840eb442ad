-- Completion requests per API endpoint (chat, responses, messages, completions, embeddings), so
-- the console can break traffic down by endpoint from the rollups as it does from Prometheus.
-- Rows written before this migration count as zero for every endpoint.
ALTER TABLE "metric_rollups" ADD COLUMN "requests_by_endpoint" BIGINT[] NOT NULL DEFAULT ARRAY[0, 0, 0, 0, 0]::BIGINT[];
