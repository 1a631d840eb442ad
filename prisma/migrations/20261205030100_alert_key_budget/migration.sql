-- A new alert metric, key_budget_used_percent: per API key, the larger share used of its daily and
-- monthly budgets. The enum is rebuilt rather than extended, for the reason given in
-- 20261204220100_alert_metric_upstream_auth_rejected (a value added by ALTER TYPE cannot be used in
-- the transaction that added it).
CREATE TYPE "AlertMetric_new" AS ENUM ('cpu_percent', 'memory_percent', 'error_rate_percent', 'latency_p95_seconds', 'instance_count', 'upstream_auth_rejected', 'key_budget_used_percent');
ALTER TABLE "alert_rules" ALTER COLUMN "metric" TYPE "AlertMetric_new" USING ("metric"::text::"AlertMetric_new");
DROP TYPE "AlertMetric";
ALTER TYPE "AlertMetric_new" RENAME TO "AlertMetric";

-- A key near and at its budget: one alert per key (the subject), at once (no duration).
INSERT INTO "alert_rules" ("id", "name", "description", "metric", "comparison", "threshold", "for_seconds", "window_seconds", "severity") VALUES
    ('key_budget_80', 'Key budget at 80%', 'An API key has used 80% of its daily or monthly budget.', 'key_budget_used_percent', 'above', 80, 0, 60, 'warning'),
    ('key_budget_100', 'Key budget used up', 'An API key has used its daily or monthly budget: its requests are refused until the budget resets.', 'key_budget_used_percent', 'above', 99.99, 0, 60, 'critical');
