-- The Batch API (lib/data-plane/batch): uploaded and written files stored as chunked rows, batches, and
-- their lines as a job queue worked by every instance (claimed with FOR UPDATE SKIP LOCKED under a lease).
-- CreateEnum
CREATE TYPE "BatchStatus" AS ENUM ('validating', 'failed', 'in_progress', 'finalizing', 'completed', 'expired', 'cancelling', 'cancelled');

-- CreateEnum
CREATE TYPE "BatchJobStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired');

-- CreateTable
CREATE TABLE "batch_files" (
    "id" TEXT NOT NULL,
    "key_id" UUID NOT NULL,
    "purpose" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),

    CONSTRAINT "batch_files_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "batch_file_chunks" (
    "file_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "batch_file_chunks_pkey" PRIMARY KEY ("file_id","seq")
);

-- CreateTable
CREATE TABLE "batches" (
    "id" TEXT NOT NULL,
    "key_id" UUID NOT NULL,
    "endpoint" TEXT NOT NULL,
    "input_file_id" TEXT NOT NULL,
    "completion_window" TEXT NOT NULL,
    "status" "BatchStatus" NOT NULL DEFAULT 'validating',
    "metadata" JSONB,
    "errors" JSONB,
    "output_file_id" TEXT,
    "error_file_id" TEXT,
    "total_count" INTEGER NOT NULL DEFAULT 0,
    "completed_count" INTEGER NOT NULL DEFAULT 0,
    "failed_count" INTEGER NOT NULL DEFAULT 0,
    "usage" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "in_progress_at" TIMESTAMPTZ(3),
    "finalizing_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "failed_at" TIMESTAMPTZ(3),
    "expired_at" TIMESTAMPTZ(3),
    "cancelling_at" TIMESTAMPTZ(3),
    "cancelled_at" TIMESTAMPTZ(3),

    CONSTRAINT "batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "batch_jobs" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" TEXT NOT NULL,
    "line_no" INTEGER NOT NULL,
    "custom_id" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "status" "BatchJobStatus" NOT NULL DEFAULT 'queued',
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "result" JSONB,
    "error" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "batch_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "batch_files_key_id_created_at_idx" ON "batch_files"("key_id", "created_at");

-- CreateIndex
CREATE INDEX "batches_key_id_created_at_idx" ON "batches"("key_id", "created_at");

-- CreateIndex
CREATE INDEX "batches_status_idx" ON "batches"("status");

-- CreateIndex
CREATE INDEX "batch_jobs_batch_id_status_idx" ON "batch_jobs"("batch_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "batch_jobs_batch_id_custom_id_key" ON "batch_jobs"("batch_id", "custom_id");

-- AddForeignKey
ALTER TABLE "batch_files" ADD CONSTRAINT "batch_files_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch_file_chunks" ADD CONSTRAINT "batch_file_chunks_file_id_fkey" FOREIGN KEY ("file_id") REFERENCES "batch_files"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batches" ADD CONSTRAINT "batches_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "batch_jobs" ADD CONSTRAINT "batch_jobs_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The queue's two ways in, each an ordered walk of a small partial index: queued jobs in arrival order,
-- and running jobs by lease expiry (a crashed holder's jobs are claimed again once their lease runs out).
CREATE INDEX "batch_jobs_queued_idx" ON "batch_jobs" ("id") WHERE "status" = 'queued';
CREATE INDEX "batch_jobs_running_lease_idx" ON "batch_jobs" ("lease_expires_at") WHERE "status" = 'running';
