// Writes request-log rows in batches off the request path: a bounded in-memory buffer (a full
// buffer drops new rows and counts them, it never blocks a request), flushed every second or as
// soon as a batch is full, one multi-row INSERT per batch (unnest of one array per column). A batch
// the database refuses goes back to the buffer while there is room for it.
import type { Queryable } from "../../platform/db/client";
import { requestLogBuffered, requestLogEntries } from "../../platform/metrics/request-log";

/** One row of request_log, as the writer inserts it. */
export interface RequestLogRow {
  at: number;
  requestId: string;
  instanceId: string;
  keyId: string | null;
  keyName: string | null;
  endpoint: string;
  model: string | null;
  stream: boolean;
  status: number;
  errorCode: string | null;
  errorMessage: string | null;
  keptBecause: "error" | "slow" | "sampled";
  durationMs: number;
  overheadMs: number | null;
  /** JSON text of the attempts. */
  attempts: string;
  retries: number;
  fallbacks: number;
  cache: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  costUsd: number | null;
  clientIp: string | null;
  requestBody: string | null;
  responseBody: string | null;
}

const INSERT = `
  INSERT INTO request_log (at, request_id, instance_id, key_id, key_name, endpoint, model, stream, status, error_code, error_message,
    kept_because, duration_ms, overhead_ms, attempts, retries, fallbacks, cache, prompt_tokens, completion_tokens, cost_usd, client_ip,
    request_body, response_body)
  SELECT to_timestamp(at_ms / 1000.0), request_id, instance_id, key_id, key_name, endpoint, model, stream, status, error_code, error_message,
    kept_because, duration_ms, overhead_ms, attempts::jsonb, retries, fallbacks, cache, prompt_tokens, completion_tokens, cost_usd, client_ip,
    request_body, response_body
  FROM unnest($1::float8[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::int[], $10::text[],
    $11::text[], $12::text[], $13::float8[], $14::float8[], $15::text[], $16::int[], $17::int[], $18::text[], $19::int[], $20::int[],
    $21::float8[], $22::text[], $23::text[], $24::text[])
    AS r(at_ms, request_id, instance_id, key_id, key_name, endpoint, model, stream, status, error_code, error_message, kept_because,
      duration_ms, overhead_ms, attempts, retries, fallbacks, cache, prompt_tokens, completion_tokens, cost_usd, client_ip, request_body, response_body)`;

const COLUMNS: Array<keyof RequestLogRow> = [
  "at",
  "requestId",
  "instanceId",
  "keyId",
  "keyName",
  "endpoint",
  "model",
  "stream",
  "status",
  "errorCode",
  "errorMessage",
  "keptBecause",
  "durationMs",
  "overheadMs",
  "attempts",
  "retries",
  "fallbacks",
  "cache",
  "promptTokens",
  "completionTokens",
  "costUsd",
  "clientIp",
  "requestBody",
  "responseBody",
];

export interface RequestLogWriterOptions {
  pool: Queryable;
  /** Rows waiting at most; beyond, new rows are dropped. */
  bufferMax: number;
  /** Rows per INSERT; a full batch is written at once rather than at the next tick. */
  batchSize?: number;
  flushMs?: number;
  onError?: (error: Error) => void;
}

export class RequestLogWriter {
  private buffer: RequestLogRow[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly batchSize: number;
  private stopped = false;

  constructor(private readonly options: RequestLogWriterOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.timer = setInterval(() => void this.flush(), options.flushMs ?? 1_000);
    this.timer.unref();
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Queues a row; never waits. False when the buffer was full and the row was dropped. */
  push(row: RequestLogRow): boolean {
    if (this.buffer.length >= this.options.bufferMax) {
      requestLogEntries.inc({ outcome: "dropped" });
      return false;
    }
    this.buffer.push(row);
    requestLogBuffered.set(this.buffer.length);
    if (this.buffer.length >= this.batchSize && !this.flushing && !this.stopped) setImmediate(() => void this.flush());
    return true;
  }

  /** Writes what is buffered, a batch at a time; concurrent calls share one run. */
  flush(): Promise<void> {
    return (this.flushing ??= this.writeAll().finally(() => (this.flushing = undefined)));
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      try {
        await this.options.pool.query(
          INSERT,
          COLUMNS.map((column) => batch.map((row) => row[column])),
        );
        requestLogEntries.inc({ outcome: "written" }, batch.length);
      } catch (error) {
        const room = Math.max(0, this.options.bufferMax - this.buffer.length);
        const kept = batch.slice(0, room);
        this.buffer.unshift(...kept);
        if (kept.length > 0) requestLogEntries.inc({ outcome: "retried" }, kept.length);
        if (batch.length > kept.length) requestLogEntries.inc({ outcome: "dropped" }, batch.length - kept.length);
        this.options.onError?.(error as Error);
        break;
      } finally {
        requestLogBuffered.set(this.buffer.length);
      }
    }
  }

  /** Stops the timer and writes what is left (once: rows the database refuses now are lost). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}
