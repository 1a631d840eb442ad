-- A new alert metric, upstream_auth_rejected. Not `ALTER TYPE ... ADD VALUE`: lib/db/migrate.ts
-- applies every pending migration in one transaction, and PostgreSQL refuses to use a value added
-- in the transaction that is still open — the next migration's seeded rule would fail on a fresh
-- database. A type created in the same transaction has no such limit, so the type is rebuilt with
-- the value (Prisma's own recipe for changing an enum) and the one column using it moved over.
CREATE TYPE "AlertMetric_new" AS ENUM ('cpu_percent', 'memory_percent', 'error_rate_percent', 'latency_p95_seconds', 'instance_count', 'upstream_auth_rejected');
ALTER TABLE "alert_rules" ALTER COLUMN "metric" TYPE "AlertMetric_new" USING ("metric"::text::"AlertMetric_new");
DROP TYPE "AlertMetric";
ALTER TYPE "AlertMetric_new" RENAME TO "AlertMetric";
