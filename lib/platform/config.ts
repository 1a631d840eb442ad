// The process configuration, validated once at start. Everything else reads getConfig();
// nothing else reads process.env.
import { isIP } from "node:net";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .transform((value) => (value === "" ? undefined : value))
    .optional()
    .refine((value) => value === undefined || protocols.some((p) => value.startsWith(`${p}://`)), {
      message: `must be a URL starting with ${protocols.map((p) => `${p}://`).join(" or ")}`,
    });

const integer = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ message }).int({ message }).min(min, { message }).max(max, { message });
};

const flag = z
  .enum(["true", "false", "1", "0", "on", "off"], { message: "must be true or false" })
  .transform((value) => ["true", "1", "on"].includes(value));

/** proxy-addr's names for ranges, an address, or an address/prefix. */
const isProxyEntry = (entry: string) => {
  if (["loopback", "linklocal", "uniquelocal"].includes(entry)) return true;
  const [address, prefix, extra] = entry.split("/");
  return extra === undefined && isIP(address ?? "") !== 0 && (prefix === undefined || /^\d{1,3}$/.test(prefix));
};

/** Fastify's trustProxy: unset trusts nobody (the socket's address is the client's). */
const trustedProxies = z
  .string()
  .trim()
  .optional()
  .transform((value, context): string[] | number | false => {
    if (!value) return false;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value
      .split(",")
      .map((entry) => entry.trim())
      .filter(Boolean);
    const bad = entries.find((entry) => !isProxyEntry(entry));
    if (bad !== undefined) {
      context.addIssue({
        code: "custom",
        message: `must be a hop count or a comma-separated list of addresses, address/prefix ranges, loopback, linklocal or uniquelocal (${JSON.stringify(bad)} is none of those)`,
      });
      return z.NEVER;
    }
    return entries;
  });

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const configSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: integer(0, 65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: optionalUrl(["postgres", "postgresql"]),
  /** A direct (not PgBouncer) connection for LISTEN/NOTIFY; defaults to DATABASE_URL. */
  DATABASE_DIRECT_URL: optionalUrl(["postgres", "postgresql"]),
  PROMETHEUS_URL: optionalUrl(["http", "https"]),
  /** The local cluster runner's control endpoint (set by `npm run cluster`), for the scaling `local` target. */
  LOCAL_CLUSTER_URL: optionalUrl(["http"]),
  INSTANCE_ID: z
    .string()
    .regex(/^[\w.:-]{1,128}$/, "letters, digits and . _ : - only (1-128)")
    .optional(),
  SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  DATA_DIR: z.string().min(1).default(".data"),
  DRAIN_TIMEOUT_MS: integer(0, 600_000).default(30_000),
  DB_POOL_MAX: integer(1, 100).default(5),
  /** How often the safety net checks the configuration version, reloading keys, providers and policy when it moved (changes normally arrive by NOTIFY). */
  CONFIG_REFRESH_MS: integer(500, 3_600_000).optional(),
  /**
   * How changes reach this instance: listen (PostgreSQL NOTIFY on a direct session of its own, plus the
   * periodic check) or poll (the periodic check only, every second by default: no session per instance,
   * for fleets whose LISTEN sessions would not fit the server; see docs/operations.md, "Fleet size").
   */
  CONFIG_SYNC: z.enum(["listen", "poll"], { message: "must be listen or poll" }).default("listen"),
  /** Readiness fails once the configuration was last confirmed current longer ago than this (database away that long). Default: 5 min, or three refresh periods if longer. */
  CONFIG_MAX_STALENESS_MS: integer(1_000, 86_400_000).optional(),
  BODY_LIMIT_BYTES: integer(1_024, 100 * 1_048_576).default(1_048_576),
  /** Seed the built-in simulator provider when no provider exists (default: on with the embedded database). */
  SEED_SIMULATOR: flag.optional(),
  /** A configuration file (agenticorp.yaml) applied at start: one instance applies it, the others wait until it is in force. */
  CONFIG_FILE: z.string().trim().min(1).optional(),
  /** How long an instance waits for another one to apply CONFIG_FILE before it starts serving what the database holds. */
  CONFIG_FILE_WAIT_MS: integer(0, 3_600_000).default(120_000),
  HEARTBEAT_MS: integer(100, 60_000).default(5_000),
  /** An instance silent this long is presumed dead (the leader marks it). */
  INSTANCE_DEAD_AFTER_MS: integer(500, 3_600_000).default(15_000),
  /** Leadership lasts this long without renewal: a dead leader is replaced within about this. */
  LEADER_TTL_MS: integer(300, 600_000).default(10_000),
  ROUTER_MAX_ATTEMPTS: integer(1, 10).default(3),
  CIRCUIT_FAILURE_THRESHOLD: integer(1, 1_000).default(5),
  CIRCUIT_COOLDOWN_MS: integer(100, 3_600_000).default(30_000),
  CACHE_TTL_SECONDS: integer(1, 30 * 86_400).default(3_600),
  CACHE_MAX_ENTRIES: integer(0, 10_000_000).default(10_000),
  /** Whose cached answers a request may get: its own API key's (key) or any key's (fleet: a hit then tells one key what another asked). */
  CACHE_SCOPE: z.enum(["key", "fleet"], { message: "must be key or fleet" }).default("key"),
  /** The shared cache table's bound in rows; the leader evicts the oldest-expiring rows beyond it. */
  CACHE_SHARED_MAX_ROWS: integer(0, 100_000_000).default(250_000),
  /** The shared cache table's bound in payload bytes (key, model and body); the leader evicts the oldest-expiring rows beyond it. */
  CACHE_SHARED_MAX_BYTES: integer(0, Number.MAX_SAFE_INTEGER).default(256 * 1_048_576),
  /** Answers larger than this stay in the instance's own cache, never in the shared table. */
  CACHE_SHARED_MAX_ENTRY_BYTES: integer(0, 100 * 1_048_576).default(65_536),
  /** An answer is written to the shared table once this instance has been asked for it this many times while it holds it (1: every answer; 2 spares the database unique traffic at some hit rate). */
  CACHE_SHARED_MIN_SIGHTINGS: integer(1, 100).default(1),
  /** Model prices (YAML or JSON: model → inputPerMillion, outputPerMillion, cachedInputPerMillion), over the built-in defaults; prices set in the console win. */
  PRICES_FILE: z.string().trim().min(1).optional(),
  /** Count tokens and spend per key into usage_buckets (off: no accounting; budgets and TPM limits are then not enforced). */
  USAGE_ACCOUNTING: flag.default(true),
  /** How often each instance writes what it counted to usage_buckets. */
  USAGE_FLUSH_MS: integer(200, 600_000).default(10_000),
  /** Calendar for daily and monthly budgets (IANA name). */
  USAGE_TIME_ZONE: z
    .string()
    .trim()
    .min(1)
    .refine(isTimeZone, { message: "must be an IANA time zone such as UTC or Europe/Berlin" })
    .default("UTC"),
  /** Tests only: a budget "day" of this many milliseconds from the epoch instead of a calendar day. */
  BUDGET_TEST_DAY_MS: integer(1_000, 86_400_000).optional(),
  /** Also label spend and token series by key id on /metrics (one series per key: mind Prometheus' cardinality). */
  METRICS_KEY_LABEL: flag.default(false),
  /** Serve the Next.js console from this instance (off: data plane only). */
  CONSOLE_ENABLED: flag.default(true),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** How often each instance writes a metrics snapshot; a divisor or multiple of 10 s keeps 10 s buckets even. */
  SNAPSHOT_INTERVAL_MS: integer(1_000, 60_000)
    .refine((ms) => 10_000 % ms === 0 || ms % 10_000 === 0, { message: "must divide 10000 or be a multiple of it" })
    .default(10_000),
  /** Snapshots kept in memory while PostgreSQL is unreachable (360 × 10 s = 1 h); the oldest are dropped beyond. */
  SNAPSHOT_BUFFER_MAX: integer(1, 100_000).default(360),
  /** How often the leader rolls 10 s buckets up into 1 min and 10 min ones. */
  ROLLUP_INTERVAL_MS: integer(500, 600_000).default(10_000),
  METRICS_RETENTION_10S_HOURS: integer(1, 24 * 7).default(6),
  METRICS_RETENTION_1M_DAYS: integer(1, 90).default(7),
  METRICS_RETENTION_10M_DAYS: integer(1, 3_650).default(90),
  /** Alert history (state changes) older than this is deleted by the leader. */
  ALERT_HISTORY_RETENTION_DAYS: integer(1, 3_650).default(90),
  /** Audit log entries older than this are deleted by the leader. */
  AUDIT_RETENTION_DAYS: integer(1, 36_500).default(365),
  /** The request log (lib/data-plane/request-log): off keeps no entry at all. */
  REQUEST_LOG: flag.default(true),
  /** Share of successful, fast requests the request log keeps (errors and slow requests are always kept); admins may override it in the console. */
  REQUEST_LOG_SAMPLE_RATE: z.coerce
    .number({ message: "must be a number from 0 to 1" })
    .min(0, { message: "must be a number from 0 to 1" })
    .max(1, { message: "must be a number from 0 to 1" })
    .default(0.01),
  /** A request that takes at least this long is always kept in the request log; admins may override it in the console. */
  REQUEST_LOG_SLOW_MS: integer(1, 3_600_000).default(10_000),
  /** Request log entries older than this are deleted by the leader. */
  REQUEST_LOG_RETENTION_DAYS: integer(1, 3_650).default(7),
  /** Entries waiting to be written per instance; beyond this new ones are dropped and counted, never waited for. */
  REQUEST_LOG_BUFFER_MAX: integer(100, 1_000_000).default(10_000),
  /** Captured prompt and response bodies (keys with capture on) are cut to this many bytes each. */
  REQUEST_LOG_BODY_MAX_BYTES: integer(256, 1_048_576).default(16_384),
  /** How often the leader evaluates the alert rules. */
  ALERT_EVALUATION_MS: integer(200, 600_000).default(15_000),
  /** Receives every alert state change as JSON, unless a rule names its own webhook. */
  ALERT_WEBHOOK_URL: optionalUrl(["http", "https"]),
  /** The body ALERT_WEBHOOK_URL receives: json (the notification object) or slack ({"text": ...}, for Slack-compatible incoming webhooks). */
  ALERT_WEBHOOK_FORMAT: z.enum(["json", "slack"], { message: "must be json or slack" }).default("json"),
  /**
   * Proxies whose X-Forwarded-For is believed, for the client address sign-in throttling counts by:
   * addresses or ranges (comma-separated; loopback, linklocal, uniquelocal), or a hop count. Unset:
   * the socket's peer is the client, and X-Forwarded-For is ignored.
   */
  TRUSTED_PROXIES: trustedProxies,
  /** Argon2 sign-in checks run at once on this process; more wait in a short queue. */
  LOGIN_HASH_CONCURRENCY: integer(1, 64).default(2),
  /** Sign-in checks waiting for a hashing turn; beyond this, sign-in is refused at once as busy. */
  LOGIN_HASH_QUEUE: integer(0, 10_000).default(16),
  /** Also refuse loopback and private-network upstreams (providers, webhooks); link-local and metadata addresses are always refused. */
  UPSTREAM_DENY_PRIVATE: flag.default(false),
  /** Prometheus' scrape interval for the instances: rate windows are at least four of them. */
  PROMETHEUS_SCRAPE_INTERVAL_SECONDS: integer(1, 3_600).default(15),
  /** Where the leader's scaling decision goes: none (recommend only), local (the local cluster runner), kubernetes (patch the HPA). */
  SCALING_TARGET: z.enum(["none", "local", "kubernetes"], { message: "must be none, local or kubernetes" }).default("none"),
  /** How often the leader decides (the Kubernetes HPA controller syncs every 15 s). */
  SCALING_INTERVAL_MS: integer(200, 600_000).default(15_000),
  /** Each instance's CPU request: CPU utilisation is usage ÷ request, as the HPA computes it (1000 = one core). */
  SCALING_CPU_REQUEST_MILLICORES: integer(1, 1_000_000).default(1_000),
  /** Each instance's memory request in bytes, for a memory target (default: the process's memory limit). */
  SCALING_MEMORY_REQUEST_BYTES: integer(1, Number.MAX_SAFE_INTEGER).optional(),
  /** The HPA's namespace for the kubernetes target (default: the pod's own, else "default"). */
  KUBERNETES_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a Kubernetes namespace name")
    .optional(),
  /** Largest file POST /v1/files accepts (stored in PostgreSQL as chunked rows). */
  BATCH_FILE_MAX_BYTES: integer(1_024, 1_073_741_824).default(100 * 1_048_576),
  /** Most lines (requests) one batch input file may hold. */
  BATCH_MAX_LINES: integer(1, 1_000_000).default(50_000),
  /** Finished batches, and files no running batch uses, are deleted this long after they end (files: after upload). */
  BATCH_RETENTION_DAYS: integer(1, 3_650).default(30),
  /** Work the fleet's batch queue from this instance (off: it only serves live traffic and the Batch API). */
  WORKER_ENABLED: flag.default(true),
  /** Batch requests this instance runs at once at most, while interactive traffic leaves room. */
  WORKER_CONCURRENCY: integer(1, 1_000).default(4),
  /** A claimed job's lease: renewed while it runs; a crashed holder's jobs are claimed again after it. */
  BATCH_JOB_LEASE_MS: integer(500, 3_600_000).default(60_000),
  /** Longest wait between polls of an empty queue (the idle cost: one short statement per poll); NOTIFY wakes workers sooner. */
  BATCH_POLL_MAX_MS: integer(50, 600_000).default(30_000),
  /** Claims of one job before it is answered with an error instead (its holders kept dying). */
  BATCH_MAX_ATTEMPTS: integer(1, 100).default(3),
  /** Batch work pauses while this instance has more live (interactive) requests in flight than this. */
  WORKER_YIELD_IN_FLIGHT: integer(0, 1_000_000).default(64),
  /** Batch work pauses while live requests' p95 latency over the last 30 s exceeds this. */
  WORKER_YIELD_P95_MS: integer(1, 3_600_000).default(20_000),
  /** The HPA the kubernetes target patches. */
  KUBERNETES_HPA_NAME: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "must be a Kubernetes object name")
    .default("agenticorp-hpa"),
});

type ConfigInput = z.infer<typeof configSchema>;

const DEFAULT_MAX_STALENESS_MS = 300_000;

export type Config = Readonly<
  Omit<ConfigInput, "INSTANCE_ID" | "DATA_DIR" | "CONFIG_MAX_STALENESS_MS"> & {
    INSTANCE_ID: string;
    CONFIG_MAX_STALENESS_MS: number;
    DATA_DIR: string;
    /** True when DATABASE_URL is unset and the embedded PostgreSQL serves this process. */
    embeddedDatabase: boolean;
  }
>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws a ConfigError whose message is one line naming the variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? "configuration");
    const shown =
      env[name] === undefined ? "unset" : name === "SECRET" || name === "DATABASE_URL" ? "(hidden)" : JSON.stringify(env[name]);
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message} (got ${shown})`);
  }
  const input = result.data;
  if (!input.SECRET && input.NODE_ENV === "production" && input.DATABASE_URL) {
    throw new ConfigError(
      "Invalid configuration: SECRET is required in production when DATABASE_URL is set (at least 32 characters)",
    );
  }
  const refreshMs = configRefreshMs({
    CONFIG_REFRESH_MS: input.CONFIG_REFRESH_MS,
    CONFIG_SYNC: input.CONFIG_SYNC,
    embeddedDatabase: !input.DATABASE_URL,
  });
  // Confirmation comes once per refresh period: a limit that close would flap readiness with the database up.
  if (input.CONFIG_MAX_STALENESS_MS !== undefined && input.CONFIG_MAX_STALENESS_MS < 2 * refreshMs) {
    throw new ConfigError(
      `Invalid configuration: CONFIG_MAX_STALENESS_MS must be at least twice the configuration refresh period (${refreshMs} ms) (got ${JSON.stringify(env.CONFIG_MAX_STALENESS_MS)})`,
    );
  }
  if (input.SCALING_TARGET === "local" && !input.LOCAL_CLUSTER_URL) {
    throw new ConfigError(
      "Invalid configuration: SCALING_TARGET local needs LOCAL_CLUSTER_URL, the local cluster runner's control endpoint (npm run cluster sets it)",
    );
  }
  return Object.freeze({
    ...input,
    INSTANCE_ID: input.INSTANCE_ID ?? `${os.hostname()}:${input.PORT}`,
    DATA_DIR: path.resolve(input.DATA_DIR),
    CONFIG_MAX_STALENESS_MS: input.CONFIG_MAX_STALENESS_MS ?? Math.max(DEFAULT_MAX_STALENESS_MS, 3 * refreshMs),
    embeddedDatabase: !input.DATABASE_URL,
  });
}

/** How often the configuration's version is checked: CONFIG_REFRESH_MS, else 1 s embedded (PGlite delivers NOTIFY only to its sender) or polling, and 10 s otherwise. */
export function configRefreshMs(
  config: Pick<Config, "CONFIG_REFRESH_MS" | "embeddedDatabase"> & Partial<Pick<Config, "CONFIG_SYNC">>,
): number {
  return config.CONFIG_REFRESH_MS ?? (config.embeddedDatabase || config.CONFIG_SYNC === "poll" ? 1_000 : 10_000);
}

// One configuration per process, shared with the Next.js bundle's copy of this module.
const holder = globalThis as typeof globalThis & { __agenticorpConfig?: Config };

export function setConfig(config: Config): Config {
  holder.__agenticorpConfig = config;
  return config;
}

export function getConfig(): Config {
  return (holder.__agenticorpConfig ??= parseConfig(process.env));
}
