-- The shared response cache is bounded by rows and by payload bytes (lib/cache/shared-bound.ts):
-- each row carries its payload's size, so the leader can sum the table without reading bodies.
-- Rows written before this migration count as 0 bytes until they expire (one TTL at most).
ALTER TABLE "response_cache" ADD COLUMN "size_bytes" INTEGER NOT NULL DEFAULT 0;

-- Eviction walks the oldest-expiring rows first; including size_bytes lets the leader's size sum
-- be an index-only scan.
DROP INDEX "response_cache_expires_at_idx";
CREATE INDEX "response_cache_expires_at_size_bytes_idx" ON "response_cache"("expires_at", "size_bytes");
