// Shared setup for gateway tests: a Prisma client on the run's database, helpers to add
// providers and keys with unique names (test files share the database), and server processes.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey, type CreateApiKeyInput } from "../../lib/control-plane/keys/api-keys";
import { createProvider, type CreateProviderInput } from "../../lib/data-plane/providers/admin";
import { startServer, type ServerProcess, type StartOptions } from "./server-process";

export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

export class GatewayFixture {
  readonly database: Database;
  readonly servers: ServerProcess[] = [];

  /** `url`: the run's database unless a test needs one of its own. */
  constructor(readonly url: string = inject("databaseUrl")) {
    this.database = createDatabase({ url, poolMax: 3 });
  }

  get prisma() {
    return this.database.prisma;
  }

  addProvider(input: CreateProviderInput) {
    return createProvider(this.prisma, input, TEST_SECRET);
  }

  async addKey(input: Partial<CreateApiKeyInput> = {}) {
    return createApiKey(this.prisma, { name: unique("key"), ...input });
  }

  async startServer(options: StartOptions = {}) {
    const server = await startServer({
      ...options,
      env: { DATABASE_URL: this.url, CONSOLE_ENABLED: "false", SECRET: TEST_SECRET, ...options.env },
    });
    this.servers.push(server);
    return server;
  }

  async close() {
    await Promise.all(this.servers.map((s) => s.stop("SIGKILL")));
    await this.database.close();
  }
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the elapsed milliseconds. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000, everyMs = 25): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
