-- Upstream attempts refused with 401/403 (the gateway's own credentials rejected), so the leader's
-- "provider credentials rejected" rule can read them from the rollups as Prometheus reads
-- agenticorp_upstream_attempt_failures_total{reason="auth_rejected"}. Older rows count as zero.
ALTER TABLE "metric_rollups" ADD COLUMN "upstream_auth_rejected" BIGINT NOT NULL DEFAULT 0;
