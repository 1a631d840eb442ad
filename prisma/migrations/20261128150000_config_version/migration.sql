-- CreateTable
CREATE TABLE "config_version" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "config_version_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "config_version" ADD CONSTRAINT "config_version_single_row" CHECK ("id" = 1);
INSERT INTO "config_version" ("id", "version") VALUES (1, 0);

-- Every change to keys, providers, deployments or scaling policies also counts up the version,
-- in the writer's transaction: an instance's periodic safety-net check reads one number and
-- reloads the whole configuration only when it moved (lib/fleet/config-sync.ts).
CREATE OR REPLACE FUNCTION "agenticorp_notify_config_change"() RETURNS trigger AS $$
BEGIN
    UPDATE "config_version" SET "version" = "version" + 1 WHERE "id" = 1;
    PERFORM pg_notify('agenticorp_config', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
