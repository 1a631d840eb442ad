// A steady load of chat completions for the failure tests: a fixed request rate (open loop: a
// slow or failing cluster does not slow the arrivals down), alternately JSON and SSE streaming,
// every request's outcome recorded as the client saw it. Only 127.0.0.1 targets; it stops by
// itself after `maxDurationMs` and never holds more than `maxOutstanding` requests.
import { Agent, request } from "undici";

export type Outcome =
  /** 200 with a complete answer: JSON with content, or a stream ending with `data: [DONE]`. */
  | "ok"
  /** An HTTP status other than 200 (from nginx or an instance). */
  | "http_error"
  /** No response at all: connection refused, reset, or timed out before the status line. */
  | "network_error"
  /** A 200 stream that did not end with `data: [DONE]` (cut, or an in-band error event). */
  | "truncated"
  /** A 200 JSON answer that was cut or unreadable. */
  | "bad_body";

export interface RequestRecord {
  seq: number;
  stream: boolean;
  keyIndex: number;
  startedAt: number;
  headersAt?: number;
  endedAt?: number;
  status?: number;
  /** x-agenticorp-instance of the response, when there was one. */
  instance?: string;
  outcome?: Outcome;
  detail?: string;
}

export interface LoadOptions {
  /** The balancer's base URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** Requests rotate through these keys. */
  keys: string[];
  model: string;
  ratePerSecond: number;
  /** Every `streamEvery`-th request streams (default 2: every other one). */
  streamEvery?: number;
  /** Per-request limit (default 30 s). */
  timeoutMs?: number;
  /** Stops issuing after this long even if stop() is never called (default 110 s). */
  maxDurationMs?: number;
  /** Requests beyond this many outstanding are counted as skipped, not sent (default 200). */
  maxOutstanding?: number;
}

export interface LoadReport {
  sent: number;
  skipped: number;
  ok: number;
  /** http_error + network_error + bad_body. */
  failed: number;
  truncated: number;
  byOutcome: Record<Outcome, number>;
  byInstance: Record<string, number>;
  failures: RequestRecord[];
  records: RequestRecord[];
  durationMs: number;
}

export class LoadGenerator {
  readonly records: RequestRecord[] = [];
  private readonly outstanding = new Map<number, Promise<void>>();
  private readonly agent = new Agent({ connections: 256, keepAliveTimeout: 4_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stoppedAt = 0;
  private skipped = 0;
  private seq = 0;
  private running = false;

  constructor(private readonly options: LoadOptions) {
    const { hostname } = new URL(options.baseUrl);
    if (hostname !== "127.0.0.1" && hostname !== "localhost") throw new Error(`load only goes to 127.0.0.1, not ${hostname}`);
    if (!(options.ratePerSecond > 0 && options.ratePerSecond <= 500)) throw new RangeError("ratePerSecond must be in (0, 500]");
  }

  start(): this {
    this.running = true;
    this.startedAt = Date.now();
    const period = 1000 / this.options.ratePerSecond;
    const maxDuration = this.options.maxDurationMs ?? 110_000;
    const tick = () => {
      if (!this.running) return;
      const now = Date.now();
      if (now - this.startedAt > maxDuration) return void this.halt();
      // Catch up on arrivals a busy event loop delayed, so the rate stays the rate.
      while (this.startedAt + this.seq * period <= now) this.issue();
      this.timer = setTimeout(tick, Math.max(1, this.startedAt + this.seq * period - Date.now()));
    };
    tick();
    return this;
  }

  private halt(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.stoppedAt ||= Date.now();
  }

  /** Requests sent and not yet finished, as of now. */
  inFlight(): RequestRecord[] {
    return this.records.filter((r) => r.endedAt === undefined);
  }

  private issue(): void {
    const seq = this.seq++;
    if (this.outstanding.size >= (this.options.maxOutstanding ?? 200)) {
      this.skipped++;
      return;
    }
    const stream = seq % (this.options.streamEvery ?? 2) === 1;
    const keyIndex = seq % this.options.keys.length;
    const record: RequestRecord = { seq, stream, keyIndex, startedAt: Date.now() };
    this.records.push(record);
    const done = this.send(record).finally(() => this.outstanding.delete(seq));
    this.outstanding.set(seq, done);
  }

  private async send(record: RequestRecord): Promise<void> {
    const finish = (outcome: Outcome, detail?: string) => {
      record.outcome = outcome;
      if (detail) record.detail = detail.slice(0, 300);
      record.endedAt = Date.now();
    };
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(`${this.options.baseUrl}/v1/chat/completions`, {
        method: "POST",
        dispatcher: this.agent,
        headers: { authorization: `Bearer ${this.options.keys[record.keyIndex]}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: this.options.model,
          stream: record.stream,
          messages: [{ role: "user", content: `steady load ${record.seq}` }],
        }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      return finish("network_error", describe(error));
    }
    record.headersAt = Date.now();
    record.status = response.statusCode;
    const instance = response.headers["x-agenticorp-instance"];
    if (typeof instance === "string") record.instance = instance;
    let text = "";
    try {
      for await (const chunk of response.body) text += chunk.toString();
    } catch (error) {
      if (response.statusCode !== 200) return finish("http_error", `${response.statusCode} (body cut: ${describe(error)})`);
      return finish(record.stream ? "truncated" : "bad_body", `body cut after ${text.length} bytes: ${describe(error)}`);
    }
    if (response.statusCode !== 200) return finish("http_error", `${response.statusCode} ${text}`);
    if (record.stream) {
      const events = text.split("\n\n").filter((e) => e.trim() !== "");
      const errored = events.some((e) => e.startsWith('data: {"error"'));
      if (events.at(-1) !== "data: [DONE]" || errored) return finish("truncated", `last event: ${events.at(-1) ?? "(none)"}`);
      return finish("ok");
    }
    try {
      const content = (JSON.parse(text) as { choices?: Array<{ message?: { content?: string } }> }).choices?.[0]?.message
        ?.content;
      if (typeof content !== "string" || content === "") return finish("bad_body", text);
    } catch {
      return finish("bad_body", text);
    }
    finish("ok");
  }

  /** Stops issuing, waits for what is outstanding (bounded by the per-request limit), and reports. */
  async stop(): Promise<LoadReport> {
    this.halt();
    await Promise.allSettled([...this.outstanding.values()]);
    await this.agent.close();
    return this.report();
  }

  report(): LoadReport {
    const byOutcome: Record<Outcome, number> = { ok: 0, http_error: 0, network_error: 0, truncated: 0, bad_body: 0 };
    const byInstance: Record<string, number> = {};
    for (const record of this.records) {
      if (record.outcome) byOutcome[record.outcome]++;
      if (record.instance) byInstance[record.instance] = (byInstance[record.instance] ?? 0) + 1;
    }
    const failures = this.records.filter((r) => r.outcome !== undefined && r.outcome !== "ok");
    return {
      sent: this.records.length,
      skipped: this.skipped,
      ok: byOutcome.ok,
      failed: byOutcome.http_error + byOutcome.network_error + byOutcome.bad_body,
      truncated: byOutcome.truncated,
      byOutcome,
      byInstance,
      failures,
      records: this.records,
      durationMs: (this.stoppedAt || Date.now()) - this.startedAt,
    };
  }
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return [e.code, e.message, e.cause?.code, e.cause?.message].filter(Boolean).join(": ");
}

/** One line for test output. */
export function summarize(report: LoadReport): string {
  const instances = Object.entries(report.byInstance)
    .map(([id, n]) => `${id}=${n}`)
    .join(" ");
  return `sent ${report.sent} in ${(report.durationMs / 1000).toFixed(1)} s: ok ${report.ok}, failed ${report.failed}, truncated ${report.truncated}, skipped ${report.skipped} (by instance: ${instances})`;
}

/**
 * The requests a crash of `victim` may legitimately cost: those in flight at the kill (`killedAt`)
 * that were on the victim or not yet answered by anyone — nginx does not re-send a POST it has
 * sent, and a relayed stream is cut — plus those sent while the victim was dying, until its exit
 * was observed (`exitedAt`). A SIGKILLed process releases its memory before its sockets: until
 * then its listener still completes handshakes and its kept-alive connections still accept
 * bytes, so nginx can send a request that only then meets a reset.
 */
export function crashAllowance(
  report: LoadReport,
  inFlightAtKill: RequestRecord[],
  killedAt: number,
  exitedAt: number,
  victim: string,
): RequestRecord[] {
  const dying = report.records.filter((r) => r.startedAt >= killedAt && r.startedAt <= exitedAt);
  return [...inFlightAtKill.filter((r) => r.instance === victim || r.instance === undefined), ...dying];
}

/** Failures the crash does not explain: any one here means a request was lost that should not have been. */
export function unexplainedLosses(report: LoadReport, allowance: RequestRecord[]): RequestRecord[] {
  const allowed = new Set(allowance.map((r) => r.seq));
  return report.failures.filter((r) => !allowed.has(r.seq));
}

/** One line per failed request, relative to an event (e.g. a kill), for test output. */
export function describeLosses(report: LoadReport, eventAt: number): string[] {
  return report.failures.map(
    (r) =>
      `  lost #${r.seq} (${r.stream ? "stream" : "json"}) sent ${r.startedAt - eventAt} ms after the event, ended ${(r.endedAt ?? 0) - eventAt} ms after: ${r.outcome} ${r.detail?.split("\n")[0] ?? ""}`,
  );
}
