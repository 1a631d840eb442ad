// The request log as the console reads it: filtered pages newest first, every entry of one
// request id (bodies only for callers allowed to see them), and the sampling settings admins edit
// (audited in their transaction; instances follow through the fleet configuration's NOTIFY).
import type { Config } from "../../platform/config";
import type { Prisma, PrismaClient } from "../../platform/db/generated/client";
import type { RequestLogEntry } from "../../platform/db/generated/client";
import { recordAudit, type Actor } from "../audit/audit";
import type {
  AttemptDto,
  RequestLogDetailResponse,
  RequestLogEntryDto,
  RequestLogListResponse,
  RequestLogQuery,
  RequestLogSettingsDto,
  UpdateRequestLogSettingsInput,
} from "../console/request-log-contracts";

type Row = Omit<RequestLogEntry, "requestBody" | "responseBody"> & { captured: boolean };

/** Everything but the bodies, and whether there are any: lists never carry prompts. */
const LISTED = {
  id: true,
  at: true,
  requestId: true,
  instanceId: true,
  keyId: true,
  keyName: true,
  endpoint: true,
  model: true,
  stream: true,
  status: true,
  errorCode: true,
  errorMessage: true,
  keptBecause: true,
  durationMs: true,
  overheadMs: true,
  attempts: true,
  retries: true,
  fallbacks: true,
  cache: true,
  promptTokens: true,
  completionTokens: true,
  costUsd: true,
  clientIp: true,
} as const satisfies Prisma.RequestLogEntrySelect;

function toDto(row: Row): RequestLogEntryDto {
  return {
    ...row,
    id: row.id.toString(),
    at: row.at.toISOString(),
    keptBecause: row.keptBecause as RequestLogEntryDto["keptBecause"],
    cache: row.cache as RequestLogEntryDto["cache"],
    attempts: (Array.isArray(row.attempts) ? row.attempts : []) as unknown as AttemptDto[],
  };
}

function statusWhere(status: string): Prisma.IntFilter {
  if (status === "error") return { gte: 400 };
  if (status.endsWith("xx")) {
    const base = Number(status[0]) * 100;
    return { gte: base, lte: base + 99 };
  }
  return { equals: Number(status) };
}

export async function listRequestLog(prisma: PrismaClient, query: RequestLogQuery): Promise<RequestLogListResponse> {
  const where: Prisma.RequestLogEntryWhereInput = {
    ...(query.keyId ? { keyId: query.keyId } : {}),
    ...(query.model ? { model: query.model } : {}),
    ...(query.status ? { status: statusWhere(query.status) } : {}),
    ...(query.from || query.to
      ? { at: { ...(query.from ? { gte: new Date(query.from) } : {}), ...(query.to ? { lte: new Date(query.to) } : {}) } }
      : {}),
    ...(query.before ? { id: { lt: BigInt(query.before) } } : {}),
  };
  const rows = await prisma.requestLogEntry.findMany({ where, select: LISTED, orderBy: { id: "desc" }, take: query.limit + 1 });
  const page = rows.slice(0, query.limit);
  // Which of them have bodies, asked apart so that a page never reads them.
  const withBodies = await prisma.requestLogEntry.findMany({
    where: { id: { in: page.map((row) => row.id) }, OR: [{ requestBody: { not: null } }, { responseBody: { not: null } }] },
    select: { id: true },
  });
  const captured = new Set(withBodies.map((row) => row.id));
  return {
    entries: page.map((row) => toDto({ ...row, captured: captured.has(row.id) })),
    nextBefore: rows.length > query.limit ? page[page.length - 1]!.id.toString() : null,
  };
}

/** Every entry logged under `requestId`, newest first; `withBodies` false leaves the bodies out. */
export async function requestLogByRequestId(
  prisma: PrismaClient,
  requestId: string,
  withBodies: boolean,
): Promise<RequestLogDetailResponse> {
  const rows = await prisma.requestLogEntry.findMany({
    where: { requestId },
    select: { ...LISTED, requestBody: true, responseBody: true },
    orderBy: { id: "desc" },
    take: 100,
  });
  return {
    requestId,
    entries: rows.map(({ requestBody, responseBody, ...row }) => {
      const captured = requestBody !== null || responseBody !== null;
      return {
        ...toDto({ ...row, captured }),
        bodies: withBodies && captured ? { request: requestBody, response: responseBody } : null,
      };
    }),
  };
}

type SettingsConfig = Pick<
  Config,
  "REQUEST_LOG" | "REQUEST_LOG_SAMPLE_RATE" | "REQUEST_LOG_SLOW_MS" | "REQUEST_LOG_RETENTION_DAYS" | "REQUEST_LOG_BODY_MAX_BYTES"
>;

export async function readRequestLogSettings(
  prisma: PrismaClient | Prisma.TransactionClient,
  config: SettingsConfig,
): Promise<RequestLogSettingsDto> {
  const row = await prisma.requestLogSettings.findUnique({ where: { id: 1 } });
  const defaults = { sampleRate: config.REQUEST_LOG_SAMPLE_RATE, slowMs: config.REQUEST_LOG_SLOW_MS };
  const set = { sampleRate: row?.sampleRate ?? null, slowMs: row?.slowMs ?? null };
  return {
    enabled: config.REQUEST_LOG,
    sampleRate: set.sampleRate ?? defaults.sampleRate,
    slowMs: set.slowMs ?? defaults.slowMs,
    set,
    defaults,
    retentionDays: config.REQUEST_LOG_RETENTION_DAYS,
    bodyMaxBytes: config.REQUEST_LOG_BODY_MAX_BYTES,
    updatedAt: row?.updatedAt.toISOString() ?? null,
    updatedBy: row?.updatedBy ?? null,
  };
}

/** Saves the admins' sampling (null: back to the environment's default); every instance follows within about a second. */
export async function saveRequestLogSettings(
  prisma: PrismaClient,
  input: UpdateRequestLogSettingsInput,
  actor: Actor,
  config: SettingsConfig,
): Promise<RequestLogSettingsDto> {
  return prisma.$transaction(async (tx) => {
    const before = await tx.requestLogSettings.findUnique({ where: { id: 1 }, select: { sampleRate: true, slowMs: true } });
    const data = { sampleRate: input.sampleRate, slowMs: input.slowMs, updatedBy: actor.email };
    await tx.requestLogSettings.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
    await recordAudit(tx, actor, {
      action: "request_log.settings.update",
      targetType: "request_log_settings",
      targetId: "1",
      before,
      after: { sampleRate: input.sampleRate, slowMs: input.slowMs },
    });
    return readRequestLogSettings(tx, config);
  });
}
