// The request log's console API: one zod schema per request and response, shared by the route
// handlers and the react-query hooks. Client-safe: zod only.
import { z } from "zod";

const isoDate = z.string();
const message = (text: string) => ({ message: text });

/** What the status filter accepts: all errors, a class, or one code. */
const STATUS_FILTER = /^(error|[1-5]xx|[1-5]\d\d)$/;
/** x-request-id values the gateway accepts from clients (lib/platform/http/app.ts), or generates (UUIDs). */
export const REQUEST_ID = /^[\w.:-]{1,128}$/;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((value) => (value === "" ? undefined : value));
const optionalTime = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === "" ? undefined : value))
  .refine((value) => value === undefined || !Number.isNaN(Date.parse(value)), message("must be a date and time (ISO 8601)"));

// GET /api/console/requests?keyId=&model=&status=&from=&to=&before=&limit=
export const requestLogQuery = z.object({
  keyId: z
    .string()
    .trim()
    .optional()
    .transform((value) => (value === "" ? undefined : value))
    .pipe(z.uuid(message("must be an API key's id")).optional()),
  model: optionalText(200),
  status: optionalText(5).refine(
    (value) => value === undefined || STATUS_FILTER.test(value),
    message("must be error, a class such as 5xx, or a status code"),
  ),
  from: optionalTime,
  to: optionalTime,
  /** The entry id to continue below (keyset pagination, newest first). */
  before: z
    .string()
    .regex(/^\d{1,19}$/, message("must be an entry id"))
    .optional(),
  limit: z.coerce.number(message("must be a number")).int().min(1).max(200).default(50),
});
export type RequestLogQuery = z.infer<typeof requestLogQuery>;
/** What the console's filters send (the query's fields, as strings, and a page size). */
export type RequestLogFilter = { [K in Exclude<keyof RequestLogQuery, "limit">]?: string } & { limit?: number };

export const requestIdParams = z.object({
  requestId: z.string().regex(REQUEST_ID, message("must be a request id (letters, digits and . _ : -, at most 128)")),
});

const attemptSchema = z.object({
  deployment: z.string(),
  provider: z.string(),
  outcome: z.string(),
  status: z.number().nullable(),
  latencyMs: z.number(),
});
export type AttemptDto = z.infer<typeof attemptSchema>;

const requestLogEntrySchema = z.object({
  id: z.string(),
  at: isoDate,
  requestId: z.string(),
  instanceId: z.string(),
  keyId: z.string().nullable(),
  keyName: z.string().nullable(),
  endpoint: z.string(),
  model: z.string().nullable(),
  stream: z.boolean(),
  status: z.number(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  keptBecause: z.enum(["error", "slow", "sampled"]),
  durationMs: z.number(),
  overheadMs: z.number().nullable(),
  attempts: z.array(attemptSchema),
  retries: z.number(),
  fallbacks: z.number(),
  cache: z.enum(["hit", "miss", "bypass"]).nullable(),
  promptTokens: z.number().nullable(),
  completionTokens: z.number().nullable(),
  costUsd: z.number().nullable(),
  clientIp: z.string().nullable(),
  /** Whether bodies were captured for it (its key had capture on). */
  captured: z.boolean(),
});
export type RequestLogEntryDto = z.infer<typeof requestLogEntrySchema>;

export const requestLogListResponse = z.object({ entries: z.array(requestLogEntrySchema), nextBefore: z.string().nullable() });
export type RequestLogListResponse = z.infer<typeof requestLogListResponse>;

/** Captured bodies; null for a caller without requests.bodies (the entry says whether there are any). */
const requestBodiesSchema = z.object({ request: z.string().nullable(), response: z.string().nullable() }).nullable();

export const requestLogDetailResponse = z.object({
  requestId: z.string(),
  /** Newest first: one per logged request with this id (a multi-prompt completion logs one per prompt; clients may reuse ids). */
  entries: z.array(requestLogEntrySchema.extend({ bodies: requestBodiesSchema })),
});
export type RequestLogDetailResponse = z.infer<typeof requestLogDetailResponse>;

export const updateRequestLogSettingsInput = z.object({
  /** Share of successful, fast requests kept (0–1); null: the environment's REQUEST_LOG_SAMPLE_RATE. */
  sampleRate: z
    .number(message("sampleRate must be a number from 0 to 1 or null"))
    .min(0, message("sampleRate must be from 0 to 1"))
    .max(1, message("sampleRate must be from 0 to 1"))
    .nullable(),
  /** Requests at least this long are always kept; null: the environment's REQUEST_LOG_SLOW_MS. */
  slowMs: z
    .number(message("slowMs must be a whole number of milliseconds or null"))
    .int(message("slowMs must be a whole number"))
    .min(1)
    .max(3_600_000)
    .nullable(),
});
export type UpdateRequestLogSettingsInput = z.infer<typeof updateRequestLogSettingsInput>;

export const requestLogSettingsResponse = z.object({
  /** REQUEST_LOG: off on this instance keeps no entry at all. */
  enabled: z.boolean(),
  sampleRate: z.number(),
  slowMs: z.number(),
  /** What admins set (null: the default is in force). */
  set: z.object({ sampleRate: z.number().nullable(), slowMs: z.number().nullable() }),
  defaults: z.object({ sampleRate: z.number(), slowMs: z.number() }),
  retentionDays: z.number(),
  bodyMaxBytes: z.number(),
  updatedAt: isoDate.nullable(),
  updatedBy: z.string().nullable(),
});
export type RequestLogSettingsDto = z.infer<typeof requestLogSettingsResponse>;
