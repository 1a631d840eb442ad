-- What each instance serves, so that capacity and scaling count only the instances that serve
-- the gateway (a console-only pod is not capacity). Rows written by older versions were both.
CREATE TYPE "InstanceRole" AS ENUM ('data_plane', 'console', 'both');

ALTER TABLE "instances" ADD COLUMN "role" "InstanceRole" NOT NULL DEFAULT 'both';
