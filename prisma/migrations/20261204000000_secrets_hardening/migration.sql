-- Login throttling per client address and per email (lib/auth/login-throttle.ts): one counter
-- table keyed by what a row limits ("addr:…", "email:…", "pair:…", "good:…"). The old per-email
-- counters are short-lived (15 minutes) and simply dropped. Rows are pruned by window_start.
DELETE FROM "login_throttle";
ALTER TABLE "login_throttle" RENAME COLUMN "email" TO "key";
CREATE INDEX "login_throttle_window_start_idx" ON "login_throttle"("window_start");

-- Provider custom headers (Azure's api-key and other non-Bearer schemes) are credentials: sealed
-- like the API key, with only their names in the clear. Rows written before keep their plaintext
-- settings.headers until an instance with SECRET seals them at start (SQL cannot encrypt).
ALTER TABLE "providers" ADD COLUMN "headers_encrypted" TEXT;
ALTER TABLE "providers" ADD COLUMN "header_names" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[];

-- Operators read the audit log: header values recorded by earlier provider changes are hidden.
UPDATE "audit_log"
SET "before" = jsonb_set("before", '{settings,headers}',
      (SELECT coalesce(jsonb_object_agg(name, '"(hidden)"'::jsonb), '{}'::jsonb) FROM jsonb_object_keys("before"->'settings'->'headers') AS name))
WHERE "target_type" = 'provider' AND jsonb_typeof("before"->'settings'->'headers') = 'object';
UPDATE "audit_log"
SET "after" = jsonb_set("after", '{settings,headers}',
      (SELECT coalesce(jsonb_object_agg(name, '"(hidden)"'::jsonb), '{}'::jsonb) FROM jsonb_object_keys("after"->'settings'->'headers') AS name))
WHERE "target_type" = 'provider' AND jsonb_typeof("after"->'settings'->'headers') = 'object';
