-- Configuration as code (lib/control-plane/config-file): objects an applied file manages carry
-- managed_by = 'file'; the console shows them read-only and its write routes refuse them (409).
-- NULL: created in the console or by a CLI, never touched by a file's apply or its pruning.
ALTER TABLE "providers" ADD COLUMN "managed_by" TEXT;
ALTER TABLE "deployments" ADD COLUMN "managed_by" TEXT;
ALTER TABLE "scaling_policies" ADD COLUMN "managed_by" TEXT;
ALTER TABLE "alert_rules" ADD COLUMN "managed_by" TEXT;

-- The last applied file (one row): its hash makes a start-up apply of the same file a no-op on
-- every instance (no audit entry, no configuration version bump); active_policy is the policy the
-- file makes active (NULL: the file leaves the active policy to the console).
CREATE TABLE "config_file_state" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "hash" TEXT NOT NULL,
    "active_policy" TEXT,
    "applied_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "applied_by" TEXT NOT NULL,

    CONSTRAINT "config_file_state_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "config_file_state_single_row" CHECK ("id" = 1)
);
