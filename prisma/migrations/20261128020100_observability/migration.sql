-- CreateEnum
CREATE TYPE "AlertMetric" AS ENUM ('cpu_percent', 'memory_percent', 'error_rate_percent', 'latency_p95_seconds', 'instance_count');

-- CreateEnum
CREATE TYPE "AlertComparison" AS ENUM ('above', 'below');

-- CreateEnum
CREATE TYPE "AlertStatus" AS ENUM ('inactive', 'pending', 'firing');

-- CreateEnum
CREATE TYPE "AlertTransition" AS ENUM ('pending', 'firing', 'resolved', 'cancelled');

-- CreateTable
CREATE TABLE "metric_rollups" (
    "resolution" INTEGER NOT NULL,
    "instance_id" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(3) NOT NULL,
    "seconds" DOUBLE PRECISION NOT NULL,
    "samples" INTEGER NOT NULL,
    "requests_2xx" BIGINT NOT NULL,
    "requests_3xx" BIGINT NOT NULL,
    "requests_4xx" BIGINT NOT NULL,
    "requests_5xx" BIGINT NOT NULL,
    "latency_buckets" BIGINT[],
    "latency_sum_seconds" DOUBLE PRECISION NOT NULL,
    "cache_hits" BIGINT NOT NULL,
    "cache_misses" BIGINT NOT NULL,
    "cache_bypass" BIGINT NOT NULL,
    "cpu_seconds" DOUBLE PRECISION NOT NULL,
    "rss_bytes_sum" DOUBLE PRECISION NOT NULL,
    "rss_bytes_max" BIGINT NOT NULL,
    "memory_limit_bytes" BIGINT NOT NULL,
    "in_flight_sum" DOUBLE PRECISION NOT NULL,
    "in_flight_max" INTEGER NOT NULL,
    "connections_sum" DOUBLE PRECISION NOT NULL,
    "connections_max" INTEGER NOT NULL,
    "db_pool_total_sum" DOUBLE PRECISION NOT NULL,
    "db_pool_in_use_sum" DOUBLE PRECISION NOT NULL,
    "db_pool_waiting_sum" DOUBLE PRECISION NOT NULL,
    "db_pool_waiting_max" INTEGER NOT NULL,
    "db_query_buckets" BIGINT[],
    "db_query_sum_seconds" DOUBLE PRECISION NOT NULL,
    "db_query_errors" BIGINT NOT NULL,
    "dirty" BOOLEAN NOT NULL DEFAULT true,
    "last_snapshot_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "metric_rollups_pkey" PRIMARY KEY ("resolution","instance_id","bucket")
);

-- CreateTable
CREATE TABLE "alert_rules" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "metric" "AlertMetric" NOT NULL,
    "comparison" "AlertComparison" NOT NULL,
    "threshold" DOUBLE PRECISION,
    "for_seconds" INTEGER NOT NULL,
    "window_seconds" INTEGER NOT NULL,
    "severity" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "webhook_url" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT,

    CONSTRAINT "alert_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alert_states" (
    "rule_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "status" "AlertStatus" NOT NULL,
    "active_since" TIMESTAMPTZ(3),
    "fired_at" TIMESTAMPTZ(3),
    "value" DOUBLE PRECISION,
    "evaluated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "alert_states_pkey" PRIMARY KEY ("rule_id","subject")
);

-- CreateTable
CREATE TABLE "alert_events" (
    "id" BIGSERIAL NOT NULL,
    "rule_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "state" "AlertTransition" NOT NULL,
    "value" DOUBLE PRECISION,
    "threshold" DOUBLE PRECISION,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alert_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "metric_rollups_resolution_bucket_idx" ON "metric_rollups"("resolution", "bucket");

-- CreateIndex
CREATE INDEX "metric_rollups_dirty_resolution_bucket_idx" ON "metric_rollups"("dirty", "resolution", "bucket");

-- CreateIndex
CREATE INDEX "alert_events_at_idx" ON "alert_events"("at");

-- CreateIndex
CREATE INDEX "alert_events_rule_id_at_idx" ON "alert_events"("rule_id", "at");

-- AddForeignKey
ALTER TABLE "alert_states" ADD CONSTRAINT "alert_states_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alert_events" ADD CONSTRAINT "alert_events_rule_id_fkey" FOREIGN KEY ("rule_id") REFERENCES "alert_rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The scaling guide's alert rules ("Monitoring Scaling" → "Alerting"), editable afterwards.
-- CPU is a share of one core; memory a share of the process's cgroup limit (or the machine's
-- memory); the guide gives no duration for the latency and instance-count rules, so they fire at
-- once. A null instance-count threshold follows the active policy's minReplicas (3 without one).
INSERT INTO "alert_rules" ("id", "name", "description", "metric", "comparison", "threshold", "for_seconds", "window_seconds", "severity") VALUES
    ('cpu_high', 'CPU above 80%', 'An instance used more than 80% of one core, averaged over the window, for 5 minutes.', 'cpu_percent', 'above', 80, 300, 60, 'warning'),
    ('memory_high', 'Memory above 90%', 'An instance''s resident memory stayed above 90% of its memory limit for 5 minutes.', 'memory_percent', 'above', 90, 300, 60, 'warning'),
    ('error_rate_high', 'Error rate above 5%', 'More than 5% of completion requests across the fleet were answered with a 5xx, for 1 minute.', 'error_rate_percent', 'above', 5, 60, 60, 'critical'),
    ('latency_p95_high', 'p95 latency above 1 s', 'The fleet''s 95th percentile completion latency, from merged histograms, exceeded 1 second.', 'latency_p95_seconds', 'above', 1, 0, 60, 'warning'),
    ('instances_below_minimum', 'Instances below the policy minimum', 'Fewer healthy instances than the active scaling policy''s minimum.', 'instance_count', 'below', NULL, 0, 60, 'critical');
