-- The request log (lib/data-plane/request-log): every failed and slow completion request, and a
-- sample of the rest, written by each instance in batches off the request path. Pruned by the
-- leader after REQUEST_LOG_RETENTION_DAYS (lib/platform/retention/rules.ts).
CREATE TABLE "request_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,
    "request_id" TEXT NOT NULL,
    "instance_id" TEXT NOT NULL,
    "key_id" UUID,
    "key_name" TEXT,
    "endpoint" TEXT NOT NULL,
    "model" TEXT,
    "stream" BOOLEAN NOT NULL DEFAULT false,
    "status" INTEGER NOT NULL,
    "error_code" TEXT,
    "error_message" TEXT,
    "kept_because" TEXT NOT NULL,
    "duration_ms" DOUBLE PRECISION NOT NULL,
    "overhead_ms" DOUBLE PRECISION,
    "attempts" JSONB NOT NULL DEFAULT '[]',
    "retries" INTEGER NOT NULL DEFAULT 0,
    "fallbacks" INTEGER NOT NULL DEFAULT 0,
    "cache" TEXT,
    "prompt_tokens" INTEGER,
    "completion_tokens" INTEGER,
    "cost_usd" DOUBLE PRECISION,
    "client_ip" TEXT,
    "request_body" TEXT,
    "response_body" TEXT,

    CONSTRAINT "request_log_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "request_log_at_idx" ON "request_log"("at");
CREATE INDEX "request_log_request_id_idx" ON "request_log"("request_id");
CREATE INDEX "request_log_key_id_at_idx" ON "request_log"("key_id", "at");
CREATE INDEX "request_log_model_at_idx" ON "request_log"("model", "at");
CREATE INDEX "request_log_status_at_idx" ON "request_log"("status", "at");

-- What admins set in the console (one row, id 1); a null column means the environment's default
-- (REQUEST_LOG_SAMPLE_RATE, REQUEST_LOG_SLOW_MS). Part of the fleet configuration: a change
-- reaches every instance like a key's.
CREATE TABLE "request_log_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "sample_rate" DOUBLE PRECISION,
    "slow_ms" INTEGER,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT,

    CONSTRAINT "request_log_settings_pkey" PRIMARY KEY ("id")
);
ALTER TABLE "request_log_settings" ADD CONSTRAINT "request_log_settings_single_row" CHECK ("id" = 1);
ALTER TABLE "request_log_settings" ADD CONSTRAINT "request_log_settings_sample_rate" CHECK ("sample_rate" IS NULL OR ("sample_rate" >= 0 AND "sample_rate" <= 1));
ALTER TABLE "request_log_settings" ADD CONSTRAINT "request_log_settings_slow_ms" CHECK ("slow_ms" IS NULL OR "slow_ms" >= 1);

CREATE TRIGGER "request_log_settings_notify" AFTER INSERT OR UPDATE OR DELETE ON "request_log_settings"
    FOR EACH STATEMENT EXECUTE FUNCTION "agenticorp_notify_config_change"();

-- Prompt and response bodies of this key's logged requests are stored (truncated), shown to admins only.
ALTER TABLE "api_keys" ADD COLUMN "capture_bodies" BOOLEAN NOT NULL DEFAULT false;
