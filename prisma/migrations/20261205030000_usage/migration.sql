-- Per-key token limit and spend budgets (reach instances through the fleet configuration).
ALTER TABLE "api_keys" ADD COLUMN "tpm_limit" INTEGER;
ALTER TABLE "api_keys" ADD COLUMN "budget_daily_usd" DOUBLE PRECISION;
ALTER TABLE "api_keys" ADD COLUMN "budget_monthly_usd" DOUBLE PRECISION;

-- Prices set in the console; a change reloads every instance's configuration like keys do.
CREATE TABLE "model_prices" (
    "model" TEXT NOT NULL,
    "input_per_million" DOUBLE PRECISION NOT NULL,
    "output_per_million" DOUBLE PRECISION NOT NULL,
    "cached_input_per_million" DOUBLE PRECISION,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_prices_pkey" PRIMARY KEY ("model")
);
CREATE TRIGGER "model_prices_notify" AFTER INSERT OR UPDATE OR DELETE ON "model_prices"
    FOR EACH STATEMENT EXECUTE FUNCTION "agenticorp_notify_config_change"();

-- Usage and spend per minute (and per 10 minutes, rolled up by the leader).
CREATE TABLE "usage_buckets" (
    "resolution" INTEGER NOT NULL,
    "instance_id" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "key_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "deployment" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "status_class" TEXT NOT NULL,
    "requests" BIGINT NOT NULL,
    "prompt_tokens" BIGINT NOT NULL,
    "completion_tokens" BIGINT NOT NULL,
    "cached_tokens" BIGINT NOT NULL,
    "cost_usd" DOUBLE PRECISION NOT NULL,
    "cache_hits" BIGINT NOT NULL,
    "saved_usd" DOUBLE PRECISION NOT NULL,
    "dirty" BOOLEAN NOT NULL DEFAULT true,
    "last_flush_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "usage_buckets_pkey" PRIMARY KEY ("resolution","instance_id","bucket","key_id","model","deployment","endpoint","status_class")
);
CREATE INDEX "usage_buckets_resolution_bucket_idx" ON "usage_buckets"("resolution", "bucket");
CREATE INDEX "usage_buckets_dirty_resolution_bucket_idx" ON "usage_buckets"("dirty", "resolution", "bucket");
CREATE INDEX "usage_buckets_key_id_resolution_bucket_idx" ON "usage_buckets"("key_id", "resolution", "bucket");

-- Fleet-wide counters for tokens per minute and spend per day / month.
CREATE TABLE "quota_windows" (
    "key_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "used" BIGINT NOT NULL DEFAULT 0,
    "last_grant" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "quota_windows_pkey" PRIMARY KEY ("key_id","kind","window_start")
);
CREATE INDEX "quota_windows_window_start_idx" ON "quota_windows"("window_start");
