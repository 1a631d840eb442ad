// The request log's one entry point: requestFinished(record) decides whether a finished request
// is kept (every error, every slow request, successes at the sampling rate) and queues its row for
// the batch writer. Nothing here waits on the database; the settings come from the fleet snapshot
// (admins change them in the console), with the environment's values as defaults.
import type { RequestLogSettings } from "../fleet-config/snapshot";
import { costOf } from "../usage/prices";
import type { RequestRecord } from "./record";
import type { RequestLogRow, RequestLogWriter } from "./writer";

export interface SamplingSettings {
  /** Share of successful, fast requests kept (0–1). */
  sampleRate: number;
  /** A request at least this long is kept whatever its status. */
  slowMs: number;
}

/** What only the HTTP layer knows when the response is done. */
export interface Finish {
  requestId: string;
  /** The status the reply went out with (a record's override wins: streams that failed after their headers). */
  status: number;
  durationMs: number;
  /** Read only for a kept entry (behind trusted proxies it parses X-Forwarded-For). */
  clientIp: () => string | null;
  /** The client's parsed body, serialised only when the entry is kept and its key captures bodies. */
  requestBody: unknown;
}

export interface RequestLogOptions {
  instanceId: string;
  writer: Pick<RequestLogWriter, "push">;
  defaults: SamplingSettings;
  /** The admins' settings from the current fleet snapshot (null columns: the defaults). */
  settings: () => RequestLogSettings | null;
  bodyMaxBytes: number;
  random?: () => number;
}

export type KeptBecause = RequestLogRow["keptBecause"];

/** Why a request is kept, or null when it is sampled out. */
export function keepDecision(
  status: number,
  durationMs: number,
  settings: SamplingSettings,
  random: () => number,
): KeptBecause | null {
  if (status >= 400) return "error";
  if (durationMs >= settings.slowMs) return "slow";
  return settings.sampleRate > 0 && random() < settings.sampleRate ? "sampled" : null;
}

/** Cuts text to `maxBytes` of UTF-8, saying so at the end. */
export function truncateBody(text: string, maxBytes: number): string {
  // A UTF-8 character is at most 4 bytes: shorter text cannot be over the limit.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  const cut = Buffer.from(text)
    .subarray(0, maxBytes)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
  return `${cut}…[truncated at ${maxBytes} bytes]`;
}

export class RequestLog {
  private readonly random: () => number;

  constructor(private readonly options: RequestLogOptions) {
    this.random = options.random ?? Math.random;
  }

  get bodyMaxBytes(): number {
    return this.options.bodyMaxBytes;
  }

  /** The sampling in force: the admins' settings over the environment's defaults. */
  currentSettings(): SamplingSettings {
    const set = this.options.settings();
    const { defaults } = this.options;
    return { sampleRate: set?.sampleRate ?? defaults.sampleRate, slowMs: set?.slowMs ?? defaults.slowMs };
  }

  /** Called once per finished request; returns why it was kept, or null when it was not. */
  requestFinished(record: RequestRecord, finish: Finish): KeptBecause | null {
    const status = record.statusOverride ?? finish.status;
    const kept = keepDecision(status, finish.durationMs, this.currentSettings(), this.random);
    if (!kept) return null;
    const capture = record.captureBodies;
    const max = this.options.bodyMaxBytes;
    const tokens = record.promptTokens !== null || record.completionTokens !== null;
    // Unknown (null) rather than 0 when the answering deployment has no price or no tokens were reported.
    const costUsd =
      tokens && record.price
        ? costOf(record.price, {
            promptTokens: record.promptTokens ?? 0,
            completionTokens: record.completionTokens ?? 0,
            cachedTokens: record.cachedTokens,
          })
        : null;
    this.options.writer.push({
      at: record.startedAt,
      requestId: finish.requestId,
      instanceId: this.options.instanceId,
      keyId: record.keyId,
      keyName: record.keyName,
      endpoint: record.endpoint,
      model: record.model,
      stream: record.stream,
      status,
      errorCode: record.errorCode,
      errorMessage: status >= 400 ? record.errorMessage : null,
      keptBecause: kept,
      durationMs: finish.durationMs,
      overheadMs: record.overheadMs,
      attempts: JSON.stringify(record.attempts),
      retries: record.retries,
      fallbacks: record.fallbacks,
      cache: record.cache,
      promptTokens: record.promptTokens,
      completionTokens: record.completionTokens,
      costUsd,
      clientIp: finish.clientIp(),
      requestBody:
        capture && finish.requestBody !== undefined && finish.requestBody !== null
          ? truncateBody(JSON.stringify(finish.requestBody), max)
          : null,
      responseBody: capture && record.responseBody !== null ? truncateBody(record.responseBody, max) : null,
    });
    return kept;
  }
}
