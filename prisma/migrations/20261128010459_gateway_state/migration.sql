-- CreateTable
CREATE TABLE "rate_limit_windows" (
    "key_id" UUID NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "used" INTEGER NOT NULL DEFAULT 0,
    "last_grant" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "rate_limit_windows_pkey" PRIMARY KEY ("key_id","window_start")
);

-- CreateTable
CREATE TABLE "response_cache" (
    "key" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "response_cache_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "rate_limit_windows_window_start_idx" ON "rate_limit_windows"("window_start");

-- CreateIndex
CREATE INDEX "response_cache_expires_at_idx" ON "response_cache"("expires_at");

-- Fleet-wide configuration: any change to keys, providers, deployments or scaling policies,
-- by any writer, tells every instance through NOTIFY (lib/fleet/config-sync.ts listens).
CREATE FUNCTION "agenticorp_notify_config_change"() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('agenticorp_config', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "api_keys_notify" AFTER INSERT OR UPDATE OR DELETE ON "api_keys"
    FOR EACH STATEMENT EXECUTE FUNCTION "agenticorp_notify_config_change"();
CREATE TRIGGER "providers_notify" AFTER INSERT OR UPDATE OR DELETE ON "providers"
    FOR EACH STATEMENT EXECUTE FUNCTION "agenticorp_notify_config_change"();
CREATE TRIGGER "deployments_notify" AFTER INSERT OR UPDATE OR DELETE ON "deployments"
    FOR EACH STATEMENT EXECUTE FUNCTION "agenticorp_notify_config_change"();
CREATE TRIGGER "scaling_policies_notify" AFTER INSERT OR UPDATE OR DELETE ON "scaling_policies"
    FOR EACH STATEMENT EXECUTE FUNCTION "agenticorp_notify_config_change"();
