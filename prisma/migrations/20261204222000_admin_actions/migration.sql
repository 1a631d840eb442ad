-- When each API key was last used, flushed by instances in batches (at most one write per key per
-- heartbeat). A table of its own rather than a column on api_keys: api_keys' trigger notifies every
-- instance to reload its key table, which these writes must not do.
CREATE TABLE "api_key_usage" (
    "key_id" UUID NOT NULL,
    "last_used_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "api_key_usage_pkey" PRIMARY KEY ("key_id")
);

-- AddForeignKey
ALTER TABLE "api_key_usage" ADD CONSTRAINT "api_key_usage_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- When an admin last reset the user's password: sessions that signed in before it end.
ALTER TABLE "users" ADD COLUMN "password_changed_at" TIMESTAMPTZ(3);
