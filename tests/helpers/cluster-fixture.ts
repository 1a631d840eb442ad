// A local cluster for the failure tests: three instances behind nginx (tools/cluster-runner) on a
// given database, with fast failure detection (heartbeat 0.5 s, dead after 3 s, leader TTL 2 s),
// a simulator provider of their own with a known pace, and API keys. Every instance log line is
// kept with the instance it came from.
import { randomBytes } from "node:crypto";
import http from "node:http";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { LocalCluster, type ClusterOptions, type InstanceInfo, type LogLine } from "../../tools/cluster-runner/index";

export const TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef";

/** Failure detection fast enough to measure within a test, slow enough for a loaded 2-core box. */
export const FAST_FAILURE_ENV = {
  HEARTBEAT_MS: "500",
  INSTANCE_DEAD_AFTER_MS: "3000",
  LEADER_TTL_MS: "2000",
  DRAIN_TIMEOUT_MS: "15000",
  LOG_LEVEL: "info",
} as const;

export interface CollectedLine {
  instance: string;
  pid: number;
  line: LogLine;
  /** The line's own time (pino's), in ms since the epoch. */
  at: number;
}

export interface TestClusterOptions extends Pick<
  ClusterOptions,
  "pgbouncer" | "prometheus" | "instances" | "balancer" | "control"
> {
  databaseUrl: string;
  env?: Record<string, string>;
}

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class TestCluster {
  readonly model = unique("steady-sim");
  keys: string[] = [];
  /** Direct to PostgreSQL (never through PgBouncer): for the test's own reads and writes. */
  readonly direct: Database;

  private constructor(
    readonly cluster: LocalCluster,
    /** Every instance id of this cluster starts with `${idPrefix}-`. */
    readonly idPrefix: string,
    readonly lines: CollectedLine[],
    /** The runner's progress messages, time-stamped. */
    readonly events: string[],
  ) {
    this.direct = createDatabase({ url: cluster.directDatabaseUrl, poolMax: 3 });
    // A test that stops PostgreSQL on purpose must not crash on the idle connections it loses.
    this.direct.pool.on("error", () => {});
  }

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const lines: CollectedLine[] = [];
    const events: string[] = [];
    const idPrefix = unique("c");
    const cluster = new LocalCluster({
      instances: options.instances ?? 3,
      port: 0,
      databaseUrl: options.databaseUrl,
      secret: TEST_SECRET,
      console: false,
      control: options.control ?? false,
      idPrefix,
      pgbouncer: options.pgbouncer,
      prometheus: options.prometheus,
      prometheusPort: 0,
      balancer: { upstreamKeepaliveTimeoutS: 3, ...options.balancer },
      env: { ...FAST_FAILURE_ENV, ...options.env },
      onLog: (instance: InstanceInfo, line: LogLine) => {
        lines.push({ instance: instance.id, pid: instance.pid, line, at: Date.parse(String(line.time)) });
      },
      onEvent: (message) => events.push(`${new Date().toISOString()} ${message}`),
    });
    await cluster.start();
    return new TestCluster(cluster, idPrefix, lines, events);
  }

  get url(): string {
    return this.cluster.url;
  }

  /** A simulator provider serving `model` (~20 ms to answer, streams of 12 tokens at 100/s) and two keys, one rate limited. */
  async addWorkload(): Promise<void> {
    await createProvider(
      this.direct.prisma,
      {
        kind: "simulator",
        name: unique("steady-simulator"),
        settings: {
          latencyMs: { median: 20, p99: 80 },
          tokensPerSecond: 100,
          errorRate: 0,
          answerWords: 12,
          timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 },
        },
        deployments: [{ modelName: this.model, upstreamModel: "steady" }],
      },
      TEST_SECRET,
    );
    const plain = await createApiKey(this.direct.prisma, { name: unique("load-key") });
    // Exercises the fleet rate limiter on every other request, with a limit the test never reaches.
    const limited = await createApiKey(this.direct.prisma, { name: unique("load-key-rpm"), rpmLimit: 1_000_000 });
    this.keys = [plain.key, limited.key];
    await this.waitUntilEveryInstanceServes(this.keys, 15_000);
  }

  /** Waits until every running instance accepts every key for the model (the NOTIFY arrived). */
  async waitUntilEveryInstanceServes(keys: string[], timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (const instance of this.running()) {
      for (const key of keys) {
        await eventually(
          async () =>
            (await httpGet(`${instance.url}/v1/models/${this.model}`, { authorization: `Bearer ${key}` })).status === 200,
          timeoutMs - (Date.now() - started),
        );
      }
    }
    return Date.now() - started;
  }

  running(): InstanceInfo[] {
    return this.cluster.instances().filter((i) => i.state !== "exited");
  }

  linesOf(message: string): CollectedLine[] {
    return this.lines.filter((l) => l.line.msg === message);
  }

  /** The leader lease as the database sees it. */
  async leaderLease(): Promise<{ holder: string; token: bigint; active: boolean; acquiredAt: Date; expiresAt: Date } | null> {
    const { rows } = await this.direct.pool.query<{
      holder: string;
      token: string;
      active: boolean;
      acquired_at: Date;
      expires_at: Date;
    }>(`SELECT holder, token, expires_at > now() AS active, acquired_at, expires_at FROM leases WHERE name = 'leader'`);
    const row = rows[0];
    return row
      ? {
          holder: row.holder,
          token: BigInt(row.token),
          active: row.active,
          acquiredAt: row.acquired_at,
          expiresAt: row.expires_at,
        }
      : null;
  }

  /** The instance id inside a lease holder (`${INSTANCE_ID}#${random}`), when it is one of ours. */
  ownInstance(holder: string): string | undefined {
    const id = holder.split("#")[0]!;
    return id.startsWith(`${this.idPrefix}-`) ? id : undefined;
  }

  async registry(): Promise<Map<string, { status: string; lastSeenAt: Date }>> {
    const { rows } = await this.direct.pool.query<{ id: string; status: string; last_seen_at: Date }>(
      `SELECT id, status::text, last_seen_at FROM instances WHERE id LIKE $1`,
      [`${this.idPrefix}-%`],
    );
    return new Map(rows.map((r) => [r.id, { status: r.status, lastSeenAt: r.last_seen_at }]));
  }

  async close(): Promise<void> {
    await this.cluster.stop().catch(() => {});
    await this.direct.close();
  }
}

/** Polls `check` until it returns true; returns the elapsed ms, throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - started;
    await sleep(everyMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/**
 * GET on a connection of its own that closes after the answer: a test must not hold idle
 * keep-alive sockets to an instance, which would keep a draining instance waiting for them.
 */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, agent: false, timeout: 5_000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on("error", reject);
  });
}

/** A pg pool for one test on the given URL, tolerant of its server going away. */
export function testPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 2_000 });
  pool.on("error", () => {});
  return pool;
}

/** Prints a figure the failure tests measure, in one greppable form. */
export function figure(test: string, name: string, value: number | string, unit = ""): void {
  console.log(`[figure] ${test}: ${name} = ${value}${unit ? ` ${unit}` : ""}`);
}

/**
 * For a test file about one cluster: starts three instances behind nginx with the workload
 * (providers, keys) before the file's tests, hands it to `use`, and closes it after them.
 */
export function clusterWithWorkloadForThisFile(use: (fixture: TestCluster) => void): void {
  let fixture: TestCluster | undefined;
  beforeAll(async () => {
    fixture = await TestCluster.start({ databaseUrl: inject("databaseUrl") });
    await fixture.addWorkload();
    use(fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });
}
