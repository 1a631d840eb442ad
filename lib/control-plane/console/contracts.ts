// The console API's requests and responses: one zod schema each, the TypeScript type inferred
// from it, shared by the route handlers (which validate input) and the react-query hooks (which
// validate what comes back). Client-safe: zod only.
import { z } from "zod";
import { queueStatsSchema } from "./batch-contracts";
import { ROLES } from "../auth/permissions";

const isoDate = z.string();
const uuid = z.uuid({ message: "must be an id" });

export const idParams = z.object({ id: uuid });

// ---- errors -------------------------------------------------------------------------------
export const consoleErrorBody = z.object({
  error: z.object({ message: z.string(), code: z.string().nullable(), param: z.string().nullable() }),
});
export type ConsoleErrorBody = z.infer<typeof consoleErrorBody>;

// ---- metrics ------------------------------------------------------------------------------
export const RANGES = ["15m", "1h", "6h", "24h", "7d"] as const;
export type RangeKey = (typeof RANGES)[number];

const pointSchema = z.object({ t: z.number(), v: z.number().nullable() });
export const seriesSchema = z.object({
  name: z.string(),
  labels: z.record(z.string(), z.string()).optional(),
  points: z.array(pointSchema),
});
export type SeriesDto = z.infer<typeof seriesSchema>;

/** A panel's data, or why it has none: one failing query does not blank the whole page. */
const panelSchema = z.union([z.object({ series: z.array(seriesSchema) }), z.object({ error: z.string() })]);
export type Panel = z.infer<typeof panelSchema>;

const instanceHealthSchema = z.object({
  id: z.string(),
  host: z.string(),
  port: z.number(),
  version: z.string(),
  status: z.enum(["healthy", "draining", "dead"]),
  role: z.enum(["data_plane", "console", "both"]),
  startedAt: isoDate,
  lastSeenAt: isoDate,
  cpuPercent: z.number().nullable(),
  rssBytes: z.number().nullable(),
  requestsPerSecond: z.number().nullable(),
  inFlight: z.number().nullable(),
});
export type InstanceHealthDto = z.infer<typeof instanceHealthSchema>;

export const overviewQuery = z.object({ range: z.enum(RANGES).default("1h") });
export type OverviewQuery = z.infer<typeof overviewQuery>;

const firingAlertSchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  name: z.string(),
  /** "fleet", or the instance the alert is about. */
  subject: z.string(),
  severity: z.string(),
  since: isoDate.nullable(),
  value: z.number().nullable(),
  summary: z.string(),
  /** Who acknowledged it (someone is on it); null while nobody has. */
  acknowledgedBy: z.string().nullable(),
});
export type FiringAlert = z.infer<typeof firingAlertSchema>;

/** Exact counts over a window, and what the latency tile reads from it. */
const windowTotalsSchema = z.object({
  start: z.number(),
  end: z.number(),
  requests: z.number(),
  requests4xx: z.number(),
  requests5xx: z.number(),
  cacheHits: z.number(),
  cacheMisses: z.number(),
  cacheBypass: z.number(),
  latencyP95Seconds: z.number().nullable(),
});
export type WindowTotals = z.infer<typeof windowTotalsSchema>;

/**
 * The tiles: counts and shares over the whole range; "latest" rates over short windows that are
 * the same at every range; the peak at the finest resolution kept, which it names.
 */
const overviewSummarySchema = z.object({
  range: windowTotalsSchema,
  /** Requests per second reads this (RECENT_RATE_SECONDS). */
  recentRate: windowTotalsSchema,
  /** p95 latency reads this (RECENT_LATENCY_SECONDS). */
  recentLatency: windowTotalsSchema,
  peak: z.object({ perSecond: z.number().nullable(), resolutionSeconds: z.number(), at: z.number().nullable() }),
});
export type OverviewSummary = z.infer<typeof overviewSummarySchema>;

export const overviewResponse = z.object({
  source: z.enum(["prometheus", "postgres"]),
  range: z.enum(RANGES),
  start: z.number(),
  end: z.number(),
  stepSeconds: z.number(),
  summary: z.union([overviewSummarySchema, z.object({ error: z.string() })]),
  requestRate: panelSchema,
  requestRateByEndpoint: panelSchema,
  requestRateByInstance: panelSchema,
  latency: panelSchema,
  errorRate: panelSchema,
  cache: panelSchema,
  database: panelSchema,
  /** Spend per hour (USD) and tokens per second, from the usage buckets (per minute at the finest). */
  usage: panelSchema,
  instances: z.union([z.object({ instances: z.array(instanceHealthSchema) }), z.object({ error: z.string() })]),
  alerts: z.union([z.object({ firing: z.array(firingAlertSchema) }), z.object({ error: z.string() })]),
  /** The batch queue now, read live (an error when it cannot be read: the tile shows "—", not 0). */
  batchQueue: z.union([queueStatsSchema, z.object({ error: z.string() })]),
});
export type OverviewResponse = z.infer<typeof overviewResponse>;

export const instancesResponse = z.object({
  source: z.enum(["prometheus", "postgres"]),
  start: z.number(),
  end: z.number(),
  stepSeconds: z.number(),
  instances: z.array(instanceHealthSchema),
  /** Requests per second over the last 15 minutes, one series per instance id. */
  requestRate: panelSchema,
  cpu: panelSchema,
});
export type InstancesResponse = z.infer<typeof instancesResponse>;

// ---- alerts -------------------------------------------------------------------------------
// Requests: updateAlertRuleInput (lib/control-plane/alerts/rules.ts), silenceAlertInput (lib/control-plane/alerts/actions.ts);
// the history's URL query in lib/control-plane/console/alerts.ts.
const alertStatus = z.enum(["inactive", "pending", "firing"]);
const alertRuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  metric: z.string(),
  comparison: z.enum(["above", "below"]),
  threshold: z.number(),
  /** The instance-count rule follows the scaling policy's minimum unless given its own threshold. */
  thresholdFromPolicy: z.boolean(),
  forSeconds: z.number(),
  windowSeconds: z.number(),
  /** The severity in force; severityReason says why it is not the rule's own. */
  severity: z.string(),
  severityReason: z.string().nullable(),
  enabled: z.boolean(),
  webhookFormat: z.enum(["json", "slack"]).nullable(),
  /** Silenced until then, by whom: evaluated, but notifying nobody. */
  silence: z.object({ until: isoDate, by: z.string().nullable() }).nullable(),
  state: alertStatus,
  activeSince: isoDate.nullable(),
  activeSubjects: z.array(
    z.object({
      subject: z.string(),
      status: alertStatus,
      since: isoDate.nullable(),
      value: z.number().nullable(),
      acknowledgedAt: isoDate.nullable(),
      acknowledgedBy: z.string().nullable(),
    }),
  ),
  updatedAt: isoDate,
  updatedBy: z.string().nullable(),
  /** "file": the terms come from the configuration file and are read-only here. */
  managedBy: z.string().nullable(),
});
export type AlertRuleDto = z.infer<typeof alertRuleSchema>;
export const alertRulesResponse = z.object({ rules: z.array(alertRuleSchema) });
export const alertRuleResponse = z.object({ rule: alertRuleSchema });

export const alertRuleParams = z.object({ id: z.string().min(1).max(200) });

const alertEventSchema = z.object({
  id: z.string(),
  ruleId: z.string(),
  ruleName: z.string(),
  subject: z.string(),
  state: z.string(),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  at: isoDate,
});
export type AlertEventDto = z.infer<typeof alertEventSchema>;
export const alertHistoryResponse = z.object({ events: z.array(alertEventSchema) });

// ---- API keys -----------------------------------------------------------------------------
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  rpmLimit: z.number().nullable(),
  tpmLimit: z.number().nullable(),
  budgetDailyUsd: z.number().nullable(),
  budgetMonthlyUsd: z.number().nullable(),
  allowedModels: z.array(z.string()),
  createdAt: isoDate,
  revokedAt: isoDate.nullable(),
  /** Requests admitted in the current one-minute window (kept only for keys with a limit). */
  usedThisMinute: z.number().nullable(),
  /** When an instance last authenticated a request with it (flushed with the heartbeat, so up to a few seconds behind). */
  lastUsedAt: isoDate.nullable(),
  /** Allowed model names no deployment serves (a typo, or a model since removed). */
  unknownModels: z.array(z.string()),
  /** The request log stores this key's prompt and response bodies (admins only see them). */
  captureBodies: z.boolean(),
});
export type ApiKeyDto = z.infer<typeof apiKeySchema>;
export const apiKeysResponse = z.object({ keys: z.array(apiKeySchema) });

// Requests: createApiKeyInput (lib/control-plane/keys/api-keys.ts).
export const createKeyResponse = z.object({ key: z.string(), record: apiKeySchema });
export const revokeKeyResponse = z.object({ record: apiKeySchema });

// ---- providers ----------------------------------------------------------------------------
// Requests: createProviderInput (lib/data-plane/providers/admin.ts), updateProviderInput (lib/control-plane/console/providers.ts).
const providerSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["openai_compatible", "anthropic", "simulator"]),
  baseUrl: z.string().nullable(),
  settings: z.unknown(),
  enabled: z.boolean(),
  createdAt: isoDate,
  updatedAt: isoDate,
  /** Credentials are write-only: the console learns only whether one is stored. */
  hasApiKey: z.boolean(),
  /** Names of the custom headers sent upstream; their values are credentials and never shown. */
  headerNames: z.array(z.string()),
  /** "file": applied from the configuration file and read-only here (the write routes answer 409). */
  managedBy: z.string().nullable(),
  deployments: z.array(
    z.object({ id: z.string(), modelName: z.string(), upstreamModel: z.string(), weight: z.number(), enabled: z.boolean() }),
  ),
});
export type ProviderDto = z.infer<typeof providerSchema>;
export const providersResponse = z.object({ providers: z.array(providerSchema) });

export const providerResponse = z.object({ provider: providerSchema });
export const deleteProviderResponse = z.object({ deleted: z.string() });

/** What a connection test may report: a fixed set, so the test cannot be used to scan ports or read error text. */
const providerTestOutcomes = [
  "ok",
  "refused_by_policy",
  "could_not_connect",
  "timed_out",
  "upstream_status",
  "unusable_settings",
] as const;
export const providerTestResponse = z.object({
  ok: z.boolean(),
  outcome: z.enum(providerTestOutcomes),
  /** The upstream's HTTP status, for upstream_status. */
  status: z.number().nullable(),
  latencyMs: z.number(),
  /** A fixed sentence for the outcome, never the underlying error's text. */
  error: z.string().nullable(),
});
export type ProviderTestResult = z.infer<typeof providerTestResponse>;

const deploymentHealthSchema = z.object({
  deploymentId: z.string(),
  modelName: z.string(),
  providerId: z.string(),
  providerName: z.string(),
  upstreamModel: z.string(),
  /** The deployment and its provider are both enabled (a disabled one gets no traffic). */
  enabled: z.boolean(),
  /** The worst circuit state any live instance has for it; "closed" also when it never failed. */
  circuit: z.enum(["closed", "half_open", "open"]),
  /** Live instances on which its circuit is open. */
  openOn: z.number(),
  /** Totals over the live instances since each started: attempts, failures counted against it, requests its circuit refused. */
  attempts: z.number(),
  failures: z.number(),
  /** failures / attempts; null without attempts. */
  errorRate: z.number().nullable(),
  refusedByCircuit: z.number(),
  /** Mean duration of the attempts it answered. */
  meanLatencyMs: z.number().nullable(),
  /** The newest failure counted against it on any live instance: a fixed reason word, the upstream's status, when and where. */
  lastFailure: z.object({ reason: z.string(), status: z.number().nullable(), at: isoDate, instanceId: z.string() }).nullable(),
});
export type DeploymentHealthDto = z.infer<typeof deploymentHealthSchema>;
export const providerHealthResponse = z.object({
  /** The live instances whose heartbeat reports were merged. */
  instances: z.array(z.string()),
  deployments: z.array(deploymentHealthSchema),
});

// ---- users --------------------------------------------------------------------------------
const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(ROLES),
  disabledAt: isoDate.nullable(),
  /** When an admin last reset the password (sessions from before it ended then). */
  passwordChangedAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
export type UserDto = z.infer<typeof userSchema>;
// Requests: createUserInput (lib/control-plane/users/users.ts).
export const usersResponse = z.object({ users: z.array(userSchema) });
export const userResponse = z.object({ user: userSchema });
/** The new password is in this response only. */
export const resetPasswordResponse = z.object({ user: userSchema, password: z.string() });
export const updateUserInput = z
  .object({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional() })
  .refine((value) => value.role !== undefined || value.disabled !== undefined, { message: "nothing to change" });
export type UpdateUserInput = z.infer<typeof updateUserInput>;

// ---- audit --------------------------------------------------------------------------------
export const auditQuery = z.object({
  action: z
    .string()
    .trim()
    .max(100)
    .optional()
    .transform((v) => v || undefined),
  actor: z
    .string()
    .trim()
    .max(254)
    .optional()
    .transform((v) => v || undefined),
  targetType: z
    .string()
    .trim()
    .max(100)
    .optional()
    .transform((v) => v || undefined),
  targetId: z
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((v) => v || undefined),
  before: z
    .string()
    .regex(/^\d{1,19}$/, "must be an entry id")
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof auditQuery>;
export type AuditFilter = Partial<AuditQuery>;

const auditEntrySchema = z.object({
  id: z.string(),
  at: isoDate,
  actorId: z.string().nullable(),
  actorEmail: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  before: z.unknown(),
  after: z.unknown(),
});
export type AuditEntryDto = z.infer<typeof auditEntrySchema>;
export const auditResponse = z.object({ entries: z.array(auditEntrySchema), nextBefore: z.string().nullable() });

/** The actions the console writes, for the audit filter. */
export const AUDIT_ACTIONS = [
  "key.create",
  "key.revoke",
  "provider.create",
  "provider.update",
  "provider.delete",
  "user.create",
  "user.update",
  "user.password_reset",
  "alert_rule.update",
  "alert.acknowledge",
  "alert.silence",
  "alert.unsilence",
  "scaling_policy.save",
  "scaling_policy.activate",
  "scaling_policy.delete",
  "capacity.settings.update",
  "capacity.sizes.update",
  "capacity.schedule.update",
  // Written by a configuration file's apply (lib/control-plane/config-file), beside the entries above.
  "config.apply",
  "alert_rule.adopt",
  "alert_rule.release",
  "key.capture_bodies",
  "request_log.settings.update",
] as const;
