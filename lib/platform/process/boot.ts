// Starts one AgentiCorp instance: configuration, database (embedded or external), migrations,
// the Fastify data plane, Next.js for everything else, the registry heartbeat, and the drain.
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import os from "node:os";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { type Config, setConfig } from "../config";
import { ensureSecret } from "../crypto/secret";
import { createDatabase, setDatabase, type Database } from "../db/client";
import { startEmbeddedPostgres, type EmbeddedPostgres } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { InstanceState } from "./lifecycle";
import { buildApp } from "../http/app";
import { nextHandoff, type NextRequestHandler } from "../http/next-handoff";
import { healthRoutes, type HealthOptions } from "../health/routes";
import { databaseCheck, ObservedDatabaseHealth, prometheusCheck } from "../health/checks";
import { metricsRoutes } from "../metrics/routes";
import { reportInFlightFrom } from "../metrics/http";
import { reportConfigAgeFrom, reportDependenciesFrom } from "../metrics/health";
import { DependencyAlerts } from "../../control-plane/alerts/dependencies";
import { WebhookSender } from "../../control-plane/alerts/webhook";
import { readVitals, resetEventLoopWindow } from "../metrics/vitals";
import { startObservability } from "../metrics-history/instance";
import {
  deregisterInstance,
  heartbeat,
  instanceRole,
  markDraining,
  registerInstance,
  type InstanceIdentity,
} from "../coordination/registry";
import { startLeaderElection, type LeaderElection } from "../coordination/leader";
import { registerSingletonJobs } from "./singletons";
import { createGateway } from "../../data-plane/gateway/create";
import { UsageFlusher } from "../../data-plane/usage/flusher";
import { writeUsageBatch } from "../../data-plane/usage/store";
import { gatewayRoutes } from "../../data-plane/gateway/routes";
import { seedSimulatorIfEmpty } from "../../data-plane/providers/seed";
import { sealLegacyProviderHeaders } from "../../data-plane/providers/credentials";
import { createFirstAdminIfNone, firstAdminBanner } from "../../control-plane/users/users";
import { DEFAULT_MIN_REPLICAS, policyMinReplicas } from "../../control-plane/alerts/policy";
import { CLIENT_ADDRESS_HEADER, throttleAddress } from "../../control-plane/auth/client-address";
import { ConfigFileError } from "../../control-plane/config-file/issues";
import { loadConfigFile } from "../../control-plane/config-file/load";
import { applyConfigFileAtStart } from "../../control-plane/config-file/startup";
import { drainConnections, stopAccepting, trackConnections } from "./drain";
import { intervalVitalsSampler } from "./heartbeat-vitals";
import { reportDeployments } from "../../data-plane/gateway/health-report";
import { createLogger } from "./logger";
import { createBatchWorker } from "../../data-plane/batch/create";
import { PROJECT_ROOT, VERSION } from "../version";

export interface BootOptions {
  logger?: Logger;
}

export interface RunningInstance {
  app: FastifyInstance;
  state: InstanceState;
  config: Config;
  database: Database;
  url: string;
  /** Drains and stops; a second call, or `force`, cuts what is left at once. */
  shutdown(reason: string): Promise<void>;
  migrated: Promise<void>;
  /** The leader election, once migrations are applied. */
  leader(): LeaderElection | undefined;
}

const BEST_EFFORT_MS = 2_000;
/** Usage flushes kept while PostgreSQL is unreachable (360 × 10 s = 1 h at the default interval). */
const USAGE_FLUSH_BUFFER_MAX = 360;

async function bestEffort(logger: Logger, what: string, work: Promise<unknown>): Promise<void> {
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`timed out after ${BEST_EFFORT_MS} ms`)), BEST_EFFORT_MS).unref(),
  );
  await Promise.race([work, timeout]).catch((error: Error) => logger.warn({ err: error.message }, `${what} failed`));
}

async function createNextHandler(config: Config): Promise<NextRequestHandler> {
  const { default: next } = await import("next");
  const nextApp = next({ dev: config.NODE_ENV === "development", dir: PROJECT_ROOT, hostname: config.HOST, port: config.PORT });
  await nextApp.prepare();
  return nextApp.getRequestHandler();
}

/**
 * Applies migrations (retrying while the database is unreachable), seeds the simulator on a
 * fresh install, loads the fleet configuration and registers the instance.
 */
async function prepareDatabase(
  database: Database,
  state: InstanceState,
  config: Config,
  identity: InstanceIdentity,
  logger: Logger,
  stopped: AbortSignal,
  applyConfigFile: () => Promise<unknown>,
  onMigrated: () => Promise<void>,
) {
  for (let attempt = 1, delay = 500; !stopped.aborted; attempt++, delay = Math.min(delay * 2, 10_000)) {
    try {
      const applied = await applyMigrations(database.pool);
      // A configuration file declares the providers: no simulator appears beside them unless asked for.
      if (config.SEED_SIMULATOR ?? (config.embeddedDatabase && !config.CONFIG_FILE)) {
        if (await seedSimulatorIfEmpty(database.prisma))
          logger.info("no provider configured: seeded the built-in simulator (models sim-fast, sim-realistic)");
      }
      const sealed = await sealLegacyProviderHeaders(database.prisma, config.SECRET!);
      if (sealed > 0) logger.info({ providers: sealed }, "encrypted provider headers stored in plaintext by an older version");
      // A fresh embedded install gets a console admin with a random password, printed once.
      const firstAdmin = config.embeddedDatabase ? await createFirstAdminIfNone(database.prisma) : null;
      if (firstAdmin) process.stdout.write(firstAdminBanner(firstAdmin));
      // Before the configuration loads: an instance is ready only with the file in force.
      await applyConfigFile();
      await onMigrated();
      state.migrationsApplied = true;
      logger.info({ applied }, applied.length ? "migrations applied" : "migrations already applied");
      await registerInstance(database.pool, identity);
      return;
    } catch (error) {
      if (error instanceof ConfigFileError) {
        // Stays unready (an old instance keeps serving a rollout's bad file); the database may yet change.
        logger.error({ err: error.message, issues: error.issues, attempt }, "configuration file refused; retrying");
      } else logger.error({ err: (error as Error).message, attempt }, "database not ready for migrations; retrying");
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The database this process uses: the configured server, or an embedded PostgreSQL started here. */
async function openDatabase(config: Config, logger: Logger): Promise<{ database: Database; embedded?: EmbeddedPostgres }> {
  let embedded: EmbeddedPostgres | undefined;
  if (config.embeddedDatabase) {
    embedded = await startEmbeddedPostgres(config.DATA_DIR);
    logger.info({ data_dir: config.DATA_DIR }, "embedded PostgreSQL started (set DATABASE_URL to use a server)");
  }
  const database = createDatabase({
    url: config.DATABASE_URL ?? embedded!.url,
    // pglite-socket interleaves the messages of concurrent connections on its one session (a
    // Bind from one connection can land between another's Parse and Bind): one connection only.
    poolMax: config.embeddedDatabase ? 1 : config.DB_POOL_MAX,
    onPoolError: (error) => logger.warn({ err: error.message }, "database connection lost"),
  });
  setDatabase(database);
  return { database, embedded };
}

type Gateway = ReturnType<typeof createGateway>;

/** Tokens and spend counted by the gateway, written to PostgreSQL every USAGE_FLUSH_MS once migrated. */
function startUsageFlusher(config: Config, database: Database, gateway: Gateway, state: InstanceState, logger: Logger) {
  const flusher = new UsageFlusher({
    accumulator: gateway.usage.accumulator,
    write: (batch) => writeUsageBatch(database.pool, config.INSTANCE_ID, batch),
    intervalMs: config.USAGE_FLUSH_MS,
    bufferMax: USAGE_FLUSH_BUFFER_MAX,
    ready: () => state.migrationsApplied,
    logger,
    onDropped: (rows) => logger.error({ rows }, "usage buffer full: the oldest unwritten usage was dropped"),
  });
  flusher.start();
  return flusher;
}

/** Health checks of the shared dependencies, reported in metrics and as this instance's dependency alerts. */
function watchDependencies(config: Config, logger: Logger, database: Database, gateway: Gateway, state: InstanceState) {
  const observedDatabase = new ObservedDatabaseHealth(
    databaseCheck(() => database.pool),
    2 * config.HEARTBEAT_MS,
  );
  const checks = {
    database: observedDatabase.probe,
    ...(config.PROMETHEUS_URL ? { prometheus: prometheusCheck(config.PROMETHEUS_URL) } : {}),
  };
  // Scrapes and the instance's own alerts read the latest observation; /health probes afresh.
  reportDependenciesFrom({ ...checks, database: observedDatabase.check });
  const stopDependencyAlerts = new DependencyAlerts({
    instanceId: config.INSTANCE_ID,
    database: observedDatabase.check,
    configAgeMs: () => gateway.fleet.ageMs(),
    maxStalenessMs: config.CONFIG_MAX_STALENESS_MS,
    webhookUrl: config.ALERT_WEBHOOK_URL,
    webhookFormat: config.ALERT_WEBHOOK_FORMAT,
    webhooks: new WebhookSender(logger),
    logger,
  }).start(config.ALERT_EVALUATION_MS);
  reportConfigAgeFrom(
    () => gateway.fleet.ageMs(),
    () => Date.now() - state.startedAt,
    config.CONFIG_MAX_STALENESS_MS,
  );
  return { observedDatabase, checks, stopDependencyAlerts };
}

/** Health, metrics, the API and (when enabled) the console, on the one Fastify app. */
async function registerRoutes(
  app: FastifyInstance,
  config: Config,
  state: InstanceState,
  gateway: Gateway,
  checks: HealthOptions["checks"],
) {
  await app.register(healthRoutes, {
    state,
    instanceId: config.INSTANCE_ID,
    version: VERSION,
    checks,
    configuration: gateway.fleet,
    maxStalenessMs: config.CONFIG_MAX_STALENESS_MS,
  });
  await app.register(metricsRoutes);
  await app.register(gatewayRoutes, gateway);
  if (config.CONSOLE_ENABLED) {
    const clientAddress = { header: CLIENT_ADDRESS_HEADER, value: throttleAddress };
    await app.register(nextHandoff, {
      handle: await createNextHandler(config),
      dev: config.NODE_ENV === "development",
      clientAddress,
    });
  }
}

/** Joins the leader election and registers the leader's jobs (started once migrations are applied). */
function electLeader(database: Database, config: Config, logger: Logger, holder: string): LeaderElection {
  const leader = startLeaderElection({
    pool: database.pool,
    holder,
    ttlMs: config.LEADER_TTL_MS,
    onElected: (token) => logger.info({ token: String(token) }, "elected leader"),
    onDeposed: (why) => logger.warn({ reason: why }, "no longer leader"),
    onError: (error, during) => {
      const { message, cause } = error as Error & { cause?: Error };
      logger.warn({ err: message, cause: cause?.message, during }, "leader election problem");
    },
  });
  registerSingletonJobs({ leader, holder, database, config, logger });
  return leader;
}

interface HeartbeatContext {
  app: FastifyInstance;
  database: Database;
  gateway: Gateway;
  state: InstanceState;
  identity: InstanceIdentity;
  observedDatabase: ObservedDatabaseHealth;
  logger: Logger;
  migrated: Promise<void>;
  /** Told the live data-plane count each beat (it sizes the fleet-wide rate-limit claims). */
  onLiveInstances: (count: number) => void;
  /** Told when batch jobs wait: wakes an idle worker that a NOTIFY did not reach (CONFIG_SYNC=poll, a lost one). */
  onBatchWork: () => void;
  leader: () => LeaderElection | undefined;
}

/**
 * Every HEARTBEAT_MS once migrated, one statement (registry.ts): the beat, the live data-plane count that
 * sizes rate-limit claims, the configuration version that spares the configuration its own periodic check,
 * the leader lease's expiry that spares a follower its own asking, and whether batch jobs wait. Keys' last use is written beside it.
 */
function startHeartbeats(context: HeartbeatContext, everyMs: number) {
  const { app, database, gateway, state, identity, observedDatabase, logger } = context;
  const sampleIntervalVitals = intervalVitalsSampler(app.server, database.pool);
  const beat = () => {
    const sentAt = performance.now();
    const askedAt = Date.now();
    const vitals = {
      ...readVitals(),
      ...sampleIntervalVitals(),
      in_flight: state.inFlight,
      deployments: reportDeployments(gateway.router),
    };
    return heartbeat(database.pool, identity, vitals, state.draining).then(
      (answer) => {
        observedDatabase.succeeded(performance.now() - sentAt);
        context.onLiveInstances(Math.max(1, answer.liveDataPlane));
        gateway.fleet.observeVersion(answer.configVersion, askedAt);
        context.leader()?.observeLease(answer.leaderHeldForMs);
        if (answer.batchWorkWaiting) context.onBatchWork();
      },
      (error: Error) => {
        observedDatabase.failed(error);
        logger.warn({ err: error.message }, "heartbeat failed");
      },
    );
  };
  void context.migrated.then(() => (state.migrationsApplied ? beat() : undefined));
  const heartbeatTimer = setInterval(() => {
    if (!state.migrationsApplied) return;
    void beat();
    gateway.keyUsage
      .flush(database.pool)
      .catch((error: Error) => logger.warn({ err: error.message }, "writing keys' last-used times failed"));
    resetEventLoopWindow();
  }, everyMs);
  heartbeatTimer.unref();
  return heartbeatTimer;
}

interface RunningParts {
  app: FastifyInstance;
  state: InstanceState;
  config: Config;
  database: Database;
  embedded: EmbeddedPostgres | undefined;
  gateway: Gateway;
  connections: ReturnType<typeof trackConnections>;
  stopping: AbortController;
  migrated: Promise<void>;
  leader: () => LeaderElection | undefined;
  batchWorker: ReturnType<typeof createBatchWorker>;
  heartbeatTimer: NodeJS.Timeout;
  stopDependencyAlerts: () => void;
  usageFlusher: UsageFlusher;
  observability: { stop(): Promise<unknown> };
  logger: Logger;
}

/**
 * SIGTERM's sequence: stop accepting, drain in-flight requests and batch lines within DRAIN_TIMEOUT_MS, leave the
 * registry and the leadership, write what is buffered, close. A second call cuts open connections at once.
 */
function shutdownSequence(parts: RunningParts): (reason: string) => Promise<void> {
  const { app, state, config, database, embedded, gateway, connections, stopping, migrated, batchWorker, logger } = parts;
  const forced = new AbortController();
  let shutdownPromise: Promise<void> | undefined;
  return (reason: string) => {
    if (shutdownPromise) {
      logger.warn({ reason }, "second stop request: cutting open connections now");
      forced.abort();
      return shutdownPromise;
    }
    shutdownPromise = (async () => {
      state.draining = true;
      stopAccepting(app.server);
      stopping.abort();
      logger.info({ reason, in_flight: state.inFlight, deadline_ms: config.DRAIN_TIMEOUT_MS }, "draining");
      if (state.migrationsApplied) await bestEffort(logger, "marking draining", markDraining(database.pool, config.INSTANCE_ID));
      // Batch work stops claiming at once; the jobs in hand finish (or go back to the queue) within the drain deadline.
      const workerStopped = batchWorker
        ?.stop(config.DRAIN_TIMEOUT_MS)
        .catch((error: Error) => logger.warn({ err: error.message }, "stopping the batch worker failed"));
      const drained = await drainConnections(state, connections, config.DRAIN_TIMEOUT_MS, forced.signal);
      logger.info(drained, "drained");
      await workerStopped;
      clearInterval(parts.heartbeatTimer);
      parts.stopDependencyAlerts();
      await migrated;
      await parts.leader()?.stop();
      if (state.migrationsApplied)
        await bestEffort(logger, "deregistering", deregisterInstance(database.pool, config.INSTANCE_ID));
      await app.close();
      if (state.migrationsApplied)
        await bestEffort(logger, "writing keys' last-used times", gateway.keyUsage.flush(database.pool));
      await bestEffort(logger, "writing the last usage", parts.usageFlusher.stop());
      await bestEffort(logger, "writing the last metrics snapshot", parts.observability.stop());
      await gateway.stop();
      await database.close();
      await embedded?.stop();
      setDatabase(undefined);
      logger.info("stopped");
    })();
    return shutdownPromise;
  };
}

export async function boot(initialConfig: Config, options: BootOptions = {}): Promise<RunningInstance> {
  const logger = options.logger ?? createLogger(initialConfig.LOG_LEVEL, initialConfig.INSTANCE_ID);
  const config = setConfig({ ...initialConfig, SECRET: await ensureSecret(initialConfig) });

  // Checked before anything starts: a file that cannot apply stops this instance here, with every problem's path.
  // Its { env: NAME } references are this process's environment, by design.
  const configFile = config.CONFIG_FILE ? await loadConfigFile(config.CONFIG_FILE, process.env, config.SECRET!) : undefined;
  const { database, embedded } = await openDatabase(config, logger);

  const state = new InstanceState();
  reportInFlightFrom(() => state.inFlight);
  const app = buildApp({
    state,
    instanceId: config.INSTANCE_ID,
    logger,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUSTED_PROXIES,
  });
  let liveInstances = 1;
  const gateway = createGateway(config, database, logger, () => liveInstances);
  const connections = trackConnections(app.server);
  const usageFlusher = startUsageFlusher(config, database, gateway, state, logger);
  const observability = startObservability({
    config,
    database,
    logger,
    ready: () => state.migrationsApplied,
    openConnections: () => connections.open,
    policyMinReplicas: () => {
      const spec = gateway.fleet.current.activePolicy?.spec;
      return spec == null ? DEFAULT_MIN_REPLICAS : policyMinReplicas(spec);
    },
  });
  const { observedDatabase, checks, stopDependencyAlerts } = watchDependencies(config, logger, database, gateway, state);
  await registerRoutes(app, config, state, gateway, checks);
  const batchWorker = createBatchWorker({ config, database, gateway, app, liveInFlight: () => state.inFlight, logger });

  const address = await app.listen({ port: config.PORT, host: config.HOST });
  const url = address.replace("0.0.0.0", "127.0.0.1");
  logger.info({ url, version: VERSION }, "listening");

  const stopping = new AbortController();
  // Registered under the bound port: with PORT=0 the system picks it, and 0 is no address.
  const { port } = app.server.address() as AddressInfo;
  const identity: InstanceIdentity = {
    id: config.INSTANCE_ID,
    host: os.hostname(),
    port,
    version: VERSION,
    role: instanceRole({ consoleEnabled: config.CONSOLE_ENABLED, dataPlaneEnabled: true }),
  };
  // Unique per process, so a restarted instance with the same id never mistakes an old lease for its own.
  const holder = `${config.INSTANCE_ID}#${randomUUID().slice(0, 8)}`;
  let leader: LeaderElection | undefined;
  const applyFile = async () => {
    if (!configFile) return;
    const options = { database, loaded: configFile, secret: config.SECRET!, holder, instanceId: config.INSTANCE_ID };
    await applyConfigFileAtStart({ ...options, waitMs: config.CONFIG_FILE_WAIT_MS, logger, signal: stopping.signal });
  };
  const migrated = prepareDatabase(database, state, config, identity, logger, stopping.signal, applyFile, () =>
    gateway.fleet.start(),
  ).then(() => {
    if (stopping.signal.aborted) return;
    leader = electLeader(database, config, logger, holder);
    batchWorker?.start();
  });
  const heartbeatTimer = startHeartbeats(
    {
      app,
      database,
      gateway,
      state,
      identity,
      observedDatabase,
      logger,
      migrated,
      onLiveInstances: (count) => (liveInstances = count),
      onBatchWork: () => batchWorker?.wake(),
      leader: () => leader,
    },
    config.HEARTBEAT_MS,
  );

  const shutdown = shutdownSequence({
    app,
    state,
    config,
    database,
    embedded,
    gateway,
    connections,
    stopping,
    migrated,
    leader: () => leader,
    batchWorker,
    heartbeatTimer,
    stopDependencyAlerts,
    usageFlusher,
    observability,
    logger,
  });

  return { app, state, config, database, url, shutdown, migrated, leader: () => leader };
}
