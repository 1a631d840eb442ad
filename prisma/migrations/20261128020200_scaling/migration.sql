-- Scaling: the leader's decisions, capacity planning tables (seeded with the scaling guide's
-- instance sizes and schedule), and at most one active scaling policy.

-- CreateTable
CREATE TABLE "scaling_decisions" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leader_token" BIGINT NOT NULL,
    "policy_name" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "current_replicas" INTEGER NOT NULL,
    "desired_replicas" INTEGER NOT NULL,
    "recommendation" INTEGER,
    "reason" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "metrics" JSONB NOT NULL,
    "scale_change" INTEGER NOT NULL DEFAULT 0,
    "outcome" TEXT NOT NULL,
    "detail" TEXT,

    CONSTRAINT "scaling_decisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "capacity_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "safety_factor" DOUBLE PRECISION NOT NULL DEFAULT 1.5,
    "instance_size_id" TEXT,
    "lookback_days" INTEGER NOT NULL DEFAULT 7,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_by" TEXT,

    CONSTRAINT "capacity_settings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "instance_sizes" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "cpu_cores" DOUBLE PRECISION NOT NULL,
    "memory_gb" DOUBLE PRECISION NOT NULL,
    "requests_per_second" DOUBLE PRECISION NOT NULL,
    "monthly_cost_usd" DOUBLE PRECISION NOT NULL,
    "sort_order" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "instance_sizes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "scaling_schedule" (
    "id" SERIAL NOT NULL,
    "users" TEXT NOT NULL,
    "rps_from" DOUBLE PRECISION NOT NULL,
    "rps_to" DOUBLE PRECISION,
    "instances_min" INTEGER NOT NULL,
    "instances_max" INTEGER,
    "notes" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "scaling_schedule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "capacity_benchmarks" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "instance_size_id" TEXT,
    "requests_per_second" DOUBLE PRECISION NOT NULL,
    "cpu_percent" DOUBLE PRECISION,
    "p95_seconds" DOUBLE PRECISION,
    "error_rate" DOUBLE PRECISION,
    "source" TEXT NOT NULL,
    "notes" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "capacity_benchmarks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "scaling_decisions_at_idx" ON "scaling_decisions"("at");

-- CreateIndex
CREATE INDEX "capacity_benchmarks_at_idx" ON "capacity_benchmarks"("at");

-- Not expressible in the Prisma schema: one settings row, and at most one active policy (two
-- admins activating different policies at once: one of the transactions fails, none is lost).
ALTER TABLE "capacity_settings" ADD CONSTRAINT "capacity_settings_single_row" CHECK ("id" = 1);
CREATE UNIQUE INDEX "scaling_policies_one_active" ON "scaling_policies" ("active") WHERE "active";

-- The scaling guide's instance sizes ("Right-Sizing Instances") and schedule ("Scaling Schedule").
INSERT INTO "instance_sizes" ("id", "name", "cpu_cores", "memory_gb", "requests_per_second", "monthly_cost_usd", "sort_order") VALUES
    ('small', 'Small', 2, 4, 100, 50, 1),
    ('medium', 'Medium', 4, 8, 250, 100, 2),
    ('large', 'Large', 8, 16, 500, 200, 3);

INSERT INTO "scaling_schedule" ("users", "rps_from", "rps_to", "instances_min", "instances_max", "notes") VALUES
    ('0-100', 0, 50, 1, 1, 'Development'),
    ('100-1K', 50, 200, 2, 3, 'Small production'),
    ('1K-10K', 200, 1000, 3, 6, 'Medium production'),
    ('10K+', 1000, NULL, 6, NULL, 'Large production');

-- The guide recommends medium instances; the safety factor of its example is 1.5.
INSERT INTO "capacity_settings" ("id", "safety_factor", "instance_size_id", "lookback_days") VALUES (1, 1.5, 'medium', 7);
