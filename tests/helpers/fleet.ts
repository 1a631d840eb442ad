// A fleet of real instances on one PostgreSQL database, and what it costs and how fast it agrees:
// PostgreSQL transactions and connections per instance (idle and under load), how long until every
// instance refuses a revoked key and serves from a switched policy, the fleet rate limit's
// accuracy, leader failover after kill -9, and memory. Shared by `npm run bench:fleet` (40
// instances) and tests/e2e/fleet-ten.test.ts (10). Built on the local cluster runner (processes,
// nginx, PgBouncer); every wait here is bounded.
import pg from "pg";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey, revokeApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { activatePolicy, getActivePolicy, seedPolicies } from "../../lib/control-plane/scaling/store";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { SYSTEM_ACTOR } from "../../lib/control-plane/audit/audit";
import { LocalCluster, type InstanceInfo } from "../../tools/cluster-runner/index";
import { LoadGenerator } from "./load";
import { adminUrl } from "./postgres";
import { awayFromMinuteEnd } from "./rate-window";
import { sample } from "./prometheus-text";
import { establishedConnections } from "./process-sockets";

const FLEET_SECRET = "fleet-secret-0123456789abcdef0123456789abcdef";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FleetOptions {
  /** Data-plane-only instances (CONSOLE_ENABLED=false). */
  instances: number;
  /** Also one instance serving the console (needs a console build). */
  withConsole?: boolean;
  /** Instances reach PostgreSQL through PgBouncer (transaction pooling); LISTEN stays direct. */
  pgbouncer?: boolean;
  /** A database of the caller's, migrated or empty (the instances migrate it); its statistics are the fleet's. */
  databaseUrl: string;
  env?: Record<string, string>;
  /** Instances started at a time (default 8). */
  startWave?: number;
  onEvent?: (message: string) => void;
}

export interface Distribution {
  p50: number;
  max: number;
  min: number;
  count: number;
}

function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { p50: NaN, max: NaN, min: NaN, count: 0 };
  return { p50: sorted[Math.floor((sorted.length - 1) / 2)]!, max: sorted.at(-1)!, min: sorted[0]!, count: sorted.length };
}

export interface DatabaseLoad {
  seconds: number;
  /** Instances running while measured (the console one included). */
  instances: number;
  /** Commits + rollbacks in the fleet's database per second, all instances together. */
  transactionsPerSecond: number;
  /** The same ÷ instances: the leader's singleton jobs are shared out over the fleet in this figure. */
  transactionsPerSecondPerInstance: number;
  /**
   * Connections each instance holds, sampled every second, the highest sample per instance: its
   * pool's connections (to PostgreSQL directly, or to PgBouncer with --pgbouncer) plus its LISTEN one.
   */
  connectionsPerInstance: Distribution;
  /** LISTEN connections per instance (always direct to PostgreSQL). */
  listenPerInstance: Distribution;
  /** Connections PostgreSQL itself served for this database (highest sample). */
  serverConnections: number;
  /** Chat completions answered per second during the window (0 idle). */
  requestsPerSecond: number;
  /**
   * Statements each instance sent per second, by its own count (agenticorp_db_query_duration_seconds):
   * the instances that do not lead, and the leader, whose singleton jobs are the fleet's, not its own.
   */
  statementsPerSecond: { followers: Distribution; leader: number | undefined };
  /** Autovacuum and autoanalyze runs on the database's tables in the window (each is a transaction of its own). */
  maintenanceRuns: number;
  /** Sessions PostgreSQL opened for the database in the window (pool connections that were closed and opened again). */
  sessionsOpened: number;
}

export class Fleet {
  readonly model = `fleet-sim-${Math.random().toString(16).slice(2, 8)}`;
  /** Direct to PostgreSQL: for the fleet's setup and the measurements' own reads. */
  readonly direct: Database;
  /** The server's `postgres` database: statistics read from there cost the fleet's database nothing. */
  private readonly admin: pg.Pool;
  private readonly databaseName: string;
  private consoleId: string | undefined;

  private constructor(
    readonly cluster: LocalCluster,
    readonly options: FleetOptions,
  ) {
    this.direct = createDatabase({ url: cluster.directDatabaseUrl, poolMax: 3, applicationName: "fleet-harness" });
    this.direct.pool.on("error", () => {});
    const server = new URL(options.databaseUrl);
    this.databaseName = decodeURIComponent(server.pathname.slice(1));
    const admin = new URL(adminUrl());
    admin.host = server.host;
    this.admin = new pg.Pool({ connectionString: admin.toString(), max: 2, application_name: "fleet-harness" });
    this.admin.on("error", () => {});
  }

  static async start(options: FleetOptions): Promise<Fleet> {
    const cluster = new LocalCluster({
      instances: options.instances,
      port: 0,
      databaseUrl: options.databaseUrl,
      secret: FLEET_SECRET,
      console: false,
      control: false,
      idPrefix: `fleet${Math.random().toString(16).slice(2, 6)}`,
      pgbouncer: options.pgbouncer,
      startWave: options.startWave ?? 8,
      readyTimeoutMs: 120_000,
      balancer: { upstreamKeepaliveTimeoutS: 3 },
      env: { LOG_LEVEL: "info", DRAIN_TIMEOUT_MS: "5000", ...options.env },
      onEvent: options.onEvent,
    });
    await cluster.start();
    const fleet = new Fleet(cluster, options);
    try {
      if (options.withConsole) {
        const [added] = await cluster.addInstances(1, { CONSOLE_ENABLED: "true" });
        fleet.consoleId = added!.id;
      }
      await fleet.addWorkload();
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  running(): InstanceInfo[] {
    return this.cluster.instances().filter((i) => i.state === "ready" && i.url);
  }

  dataPlaneOnly(): InstanceInfo[] {
    return this.running().filter((i) => i.id !== this.consoleId);
  }

  consoleInstance(): InstanceInfo | undefined {
    return this.running().find((i) => i.id === this.consoleId);
  }

  /** A simulator provider of the fleet's own (fast, no errors) and the scaling presets. */
  private async addWorkload(): Promise<void> {
    await createProvider(
      this.direct.prisma,
      {
        kind: "simulator",
        name: `${this.model}-provider`,
        settings: {
          latencyMs: { median: 5, p99: 20 },
          tokensPerSecond: 1_000,
          errorRate: 0,
          answerWords: 8,
          timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 },
        },
        deployments: [{ modelName: this.model, upstreamModel: "fleet" }],
      },
      FLEET_SECRET,
    );
    await seedPolicies(this.direct.prisma);
  }

  /** A new key, once every running instance serves it. */
  async newKey(rpmLimit?: number): Promise<{ key: string; id: string }> {
    const { key, record } = await createApiKey(this.direct.prisma, {
      name: `fleet-${Math.random().toString(16).slice(2, 8)}`,
      ...(rpmLimit ? { rpmLimit } : {}),
    });
    await Promise.all(
      this.running().map((i) => until(async () => (await models(i.url!, key)) === 200, 15_000, `${i.id} to accept a new key`)),
    );
    return { key, id: record.id };
  }

  private async transactions(): Promise<number> {
    return (await this.databaseCounts()).transactions;
  }

  private async databaseCounts(): Promise<{ transactions: number; sessions: number }> {
    const { rows } = await this.admin.query<{ n: string; sessions: string }>(
      "SELECT xact_commit + xact_rollback AS n, sessions FROM pg_stat_database WHERE datname = $1",
      [this.databaseName],
    );
    return { transactions: Number(rows[0]!.n), sessions: Number(rows[0]!.sessions) };
  }

  /**
   * Connections per instance id right now, from each process's open sockets (/proc): to PgBouncer
   * or PostgreSQL for its pool, and its LISTEN one (PostgreSQL's agenticorp-listen session whose
   * client port is the instance's).
   */
  private async connectionSample(): Promise<{ pool: Map<string, number>; listen: Map<string, number>; server: number }> {
    const { rows } = await this.admin.query<{ application_name: string; client_port: number | null }>(
      "SELECT application_name, client_port FROM pg_stat_activity WHERE datname = $1",
      [this.databaseName],
    );
    const listenPorts = new Set(rows.filter((r) => r.application_name === "agenticorp-listen").map((r) => r.client_port));
    const postgresPort = Number(new URL(this.cluster.directDatabaseUrl).port || 5432);
    const poolerPort = Number(new URL(this.cluster.databaseUrl).port || 5432);
    const pool = new Map<string, number>();
    const listen = new Map<string, number>();
    for (const instance of this.running()) {
      const open = establishedConnections(instance.pid).filter(
        (c) => c.remotePort === postgresPort || c.remotePort === poolerPort,
      );
      const listening = open.filter((c) => c.remotePort === postgresPort && listenPorts.has(c.localPort)).length;
      listen.set(instance.id, listening);
      pool.set(instance.id, open.length - listening);
    }
    return { pool, listen, server: rows.length };
  }

  /**
   * Measures the fleet's load on PostgreSQL for `seconds`, idle or under `ratePerSecond` chat
   * completions spread over the instances by the runner's nginx.
   */
  async databaseLoad(seconds: number, ratePerSecond = 0): Promise<DatabaseLoad> {
    const ids = this.running().map((i) => i.id);
    const load =
      ratePerSecond > 0
        ? new LoadGenerator({
            baseUrl: this.cluster.url,
            keys: [(await this.newKey()).key],
            model: this.model,
            ratePerSecond,
            streamEvery: 1_000_000,
            maxDurationMs: seconds * 1000 + 30_000,
          }).start()
        : undefined;
    if (load) await sleep(2_000); // pools grow to what the load needs before the window opens
    const statementsBefore = await this.statementCounts();
    const maintenanceBefore = await this.maintenanceRuns();
    const highest = new Map<string, number>(ids.map((id) => [id, 0]));
    const highestListen = new Map<string, number>(ids.map((id) => [id, 0]));
    let server = 0;
    const sessionsBefore = (await this.databaseCounts()).sessions;
    const before = await this.transactions();
    const startedAt = performance.now();
    const okBefore = load ? load.report().ok : 0;
    while (performance.now() - startedAt < seconds * 1000) {
      const sample = await this.connectionSample();
      server = Math.max(server, sample.server);
      for (const id of ids) {
        highest.set(id, Math.max(highest.get(id)!, (sample.pool.get(id) ?? 0) + (sample.listen.get(id) ?? 0)));
        highestListen.set(id, Math.max(highestListen.get(id)!, sample.listen.get(id) ?? 0));
      }
      await sleep(1_000);
    }
    // PostgreSQL publishes a backend's counts at most once a second, and when it goes idle.
    await sleep(1_100);
    const elapsed = (performance.now() - startedAt) / 1000;
    const after = await this.databaseCounts();
    const transactions = after.transactions - before;
    const sessionsOpened = after.sessions - sessionsBefore;
    const statementsAfter = await this.statementCounts();
    const maintenanceRuns = (await this.maintenanceRuns()) - maintenanceBefore;
    const leader = (await this.leaderLease())?.holder.split("#")[0];
    const statementRate = (id: string) => round(((statementsAfter.get(id) ?? NaN) - (statementsBefore.get(id) ?? NaN)) / elapsed);
    const answered = load ? load.report().ok - okBefore : 0;
    if (load) await load.stop();
    return {
      seconds: Math.round(elapsed * 10) / 10,
      instances: ids.length,
      transactionsPerSecond: round(transactions / elapsed),
      transactionsPerSecondPerInstance: round(transactions / elapsed / ids.length),
      connectionsPerInstance: distribution([...highest.values()]),
      listenPerInstance: distribution([...highestListen.values()]),
      serverConnections: server,
      requestsPerSecond: round(answered / elapsed),
      statementsPerSecond: {
        followers: distribution(
          ids
            .filter((id) => id !== leader)
            .map(statementRate)
            .filter(Number.isFinite),
        ),
        leader: leader && ids.includes(leader) ? statementRate(leader) : undefined,
      },
      maintenanceRuns,
      sessionsOpened,
    };
  }

  private async maintenanceRuns(): Promise<number> {
    const { rows } = await this.direct.pool.query<{ n: string }>(
      "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) AS n FROM pg_stat_user_tables",
    );
    return Number(rows[0]!.n);
  }

  /** Each running instance's count of statements sent to PostgreSQL, from its /metrics. */
  private async statementCounts(): Promise<Map<string, number>> {
    const counts = await Promise.all(
      this.running().map(async (i) => {
        const text = await (await fetch(`${i.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
        return [i.id, sample(text, "agenticorp_db_query_duration_seconds_count")] as const;
      }),
    );
    return new Map(counts);
  }

  /** Revokes a key every instance accepts; ms from the revocation's commit until each instance refuses it. */
  async revocation(): Promise<Distribution> {
    const { key, id } = await this.newKey();
    const instances = this.running();
    // From the commit: polling forty instances meanwhile would slow this process's own write.
    await revokeApiKey(this.direct.prisma, id);
    const committedAt = performance.now();
    const seen = await Promise.all(
      instances.map(async (i) => {
        await until(async () => (await models(i.url!, key)) === 401, 10_000, `${i.id} to refuse a revoked key`, 20);
        return performance.now() - committedAt;
      }),
    );
    return distribution(seen.map(Math.round));
  }

  /**
   * Switches the active scaling policy; ms from its commit until each instance serves from
   * the configuration that has it (its /health/ready configuration version), then checks that every
   * instance reports the new policy's minimum in /metrics.
   */
  async policySwitch(): Promise<Distribution> {
    const active = (await getActivePolicy(this.direct.prisma))?.name;
    const target = active === "conservative" ? "balanced" : "conservative";
    const instances = this.running();
    await activatePolicy(this.direct.prisma, target, SYSTEM_ACTOR, "fleet measurement");
    const committedAt = performance.now();
    const { rows } = await this.direct.pool.query<{ version: string }>("SELECT version::text FROM config_version");
    const version = BigInt(rows[0]!.version);
    const seen = await Promise.all(
      instances.map(async (i) => {
        await until(
          async () => BigInt((await readiness(i.url!)).configuration?.version ?? "-1") >= version,
          10_000,
          `${i.id} to see the policy switch`,
          20,
        );
        return performance.now() - committedAt;
      }),
    );
    for (const i of instances) {
      const text = await (await fetch(`${i.url}/metrics`)).text();
      const min = sample(text, "agenticorp_scaling_policy_min_replicas");
      if (min !== PRESETS[target].minReplicas)
        throw new Error(`${i.id} reports min replicas ${min}, not ${target}'s ${PRESETS[target].minReplicas}`);
    }
    return distribution(seen.map(Math.round));
  }

  /**
   * One key limited to `limit` requests per minute; 2 × limit chat completions at once, spread
   * evenly over the data-plane instances, inside one minute of database time. Returns how many
   * were admitted (200) and refused (429).
   */
  async rateLimit(
    limit: number,
  ): Promise<{ limit: number; sent: number; admitted: number; refused: number; other: number; share: number }> {
    const { key } = await this.newKey(limit);
    const instances = this.running();
    await awayFromMinuteEnd(this.direct.pool, 15);
    const sends = Array.from({ length: 2 * limit }, (_, n) =>
      fetch(`${instances[n % instances.length]!.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: this.model, messages: [{ role: "user", content: "hello" }] }),
      }).then(async (response) => {
        await response.arrayBuffer();
        return response.status;
      }),
    );
    const statuses = await Promise.all(sends);
    const admitted = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 429).length;
    return {
      limit,
      sent: statuses.length,
      admitted,
      refused,
      other: statuses.length - admitted - refused,
      share: round(admitted / limit),
    };
  }

  /** kill -9 of the leader; ms (database clock) until another instance holds the leader lease. */
  async failover(): Promise<{ ms: number; from: string; to: string }> {
    const lease = await until(() => this.leaderLease(), 30_000, "a leader");
    const from = lease.holder.split("#")[0]!;
    const { rows } = await this.direct.pool.query<{ now: Date }>("SELECT now()");
    const killedAt = rows[0]!.now.getTime();
    await this.cluster.instance(from).kill();
    const ttl = Number(this.options.env?.LEADER_TTL_MS ?? 10_000);
    const next = await until(
      async () => {
        const current = await this.leaderLease();
        return current && current.holder !== lease.holder ? current : undefined;
      },
      3 * ttl + 10_000,
      "a new leader",
      20,
    );
    return { ms: next.acquiredAt - killedAt, from, to: next.holder.split("#")[0]! };
  }

  private async leaderLease(): Promise<{ holder: string; acquiredAt: number } | undefined> {
    const { rows } = await this.direct.pool.query<{ holder: string; acquired_at: Date }>(
      "SELECT holder, acquired_at FROM leases WHERE name = 'leader' AND expires_at > now()",
    );
    return rows[0] ? { holder: rows[0].holder, acquiredAt: rows[0].acquired_at.getTime() } : undefined;
  }

  /** Resident memory in MB: every data-plane-only instance's, and the console instance's. */
  async memory(): Promise<{ dataPlaneMb: Distribution; consoleMb: number | undefined }> {
    const rss = async (url: string) => {
      const health = (await (await fetch(`${url}/health`)).json()) as { vitals: { rss_bytes: number } };
      return Math.round(health.vitals.rss_bytes / 1_048_576);
    };
    const dataPlane = await Promise.all(this.dataPlaneOnly().map((i) => rss(i.url!)));
    const consoleUrl = this.consoleInstance()?.url;
    return { dataPlaneMb: distribution(dataPlane), consoleMb: consoleUrl ? await rss(consoleUrl) : undefined };
  }

  async close(): Promise<void> {
    await this.cluster.stop().catch(() => {});
    await this.direct.close();
    await this.admin.end().catch(() => {});
  }
}

async function models(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/v1/models`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(5_000),
  });
  await response.arrayBuffer();
  return response.status;
}

async function readiness(url: string): Promise<{ configuration?: { version?: string } }> {
  const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as { configuration?: { version?: string } };
}

/** Polls `check` every `everyMs` until it returns something truthy; throws after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
