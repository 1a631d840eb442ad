-- Operators act on alerts: acknowledge an active alert (until it ends), silence a rule for a
-- while (no notifications, listed apart); and webhooks may get a Slack-compatible body. Each
-- state change keeps the title it had then, so editing a rule later does not rewrite its history.
ALTER TABLE "alert_events" ADD COLUMN "title" TEXT;
ALTER TABLE "alert_states" ADD COLUMN "acknowledged_at" TIMESTAMPTZ(3), ADD COLUMN "acknowledged_by" TEXT;
ALTER TABLE "alert_rules" ADD COLUMN "silenced_until" TIMESTAMPTZ(3), ADD COLUMN "silenced_by" TEXT,
    ADD COLUMN "webhook_format" TEXT,
    ADD CONSTRAINT "alert_rules_webhook_format_check" CHECK ("webhook_format" IN ('json', 'slack'));

-- The in-product twin of the Prometheus rule AgentiCorpProviderCredentialsRejected: any upstream
-- 401/403 in the last 5 minutes means a provider's key is wrong or revoked; every request routed
-- there fails over or fails until an admin fixes it.
INSERT INTO "alert_rules" ("id", "name", "description", "metric", "comparison", "threshold", "for_seconds", "window_seconds", "severity") VALUES
    ('provider_credentials_rejected', 'Provider credentials rejected', 'An upstream refused the gateway''s credentials (401/403).', 'upstream_auth_rejected', 'above', 0, 0, 300, 'critical');
