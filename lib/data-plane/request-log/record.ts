// One request's request-log entry, built while the request runs: the pipeline notes the key,
// model, cache outcome and tokens, each upstream attempt appends itself, and the response hook
// hands the finished record to RequestLog.requestFinished. Plain fields and one array: the
// record of a request that is not kept costs little more than its allocation.
import type { UpstreamFailure } from "../providers/types";
import type { ModelPrice } from "../usage/prices";
import type { TokenUsage } from "../gateway/presentation";

/** One upstream attempt: which deployment, how it ended, how long it took. */
export interface AttemptRecord {
  /** The deployment's label: provider name / upstream model. */
  deployment: string;
  provider: string;
  /** "ok", or the failure's reason (timeout_total, rate_limited, server_error, client_gone, …). */
  outcome: string;
  /** The upstream's HTTP status, when it answered with one. */
  status: number | null;
  latencyMs: number;
}

export type CacheOutcome = "hit" | "miss" | "bypass";

export class RequestRecord {
  /** Epoch milliseconds the request arrived. */
  readonly startedAt = Date.now();
  keyId: string | null = null;
  keyName: string | null = null;
  captureBodies = false;
  /** A stream's capture stops growing past this many characters (at least as many bytes: REQUEST_LOG_BODY_MAX_BYTES). */
  captureMaxChars = 0;
  model: string | null = null;
  stream = false;
  readonly attempts: AttemptRecord[] = [];
  cache: CacheOutcome | null = null;
  promptTokens: number | null = null;
  completionTokens: number | null = null;
  cachedTokens = 0;
  /** The price of the deployment that answered (lib/data-plane/usage/prices.ts); null: unpriced or unanswered. */
  price: ModelPrice | null = null;
  overheadMs: number | null = null;
  /** Set when the status the client saw is not the reply's (a stream that failed or was left after its headers). */
  statusOverride: number | null = null;
  errorCode: string | null = null;
  errorMessage: string | null = null;
  /** The answer as sent, kept (by reference) only for keys that capture bodies. */
  responseBody: string | null = null;

  constructor(readonly endpoint: string) {}

  attempt(deployment: string, provider: string, latencyMs: number, failure?: unknown): void {
    if (failure === undefined) {
      this.attempts.push({ deployment, provider, outcome: "ok", status: null, latencyMs });
      return;
    }
    const known = failure as Partial<UpstreamFailure>;
    this.attempts.push({
      deployment,
      provider,
      outcome: typeof known.reason === "string" ? known.reason : "internal_error",
      status: typeof known.status === "number" ? known.status : null,
      latencyMs,
    });
  }

  /** The answer's token counts (a stream reports its totals once). */
  usage(usage: TokenUsage | undefined): void {
    if (!usage) return;
    const cached = usage.prompt_tokens_details?.cached_tokens;
    if (typeof cached === "number") this.cachedTokens = cached;
    if (typeof usage.prompt_tokens === "number") this.promptTokens = usage.prompt_tokens;
    if (typeof usage.completion_tokens === "number") this.completionTokens = usage.completion_tokens;
  }

  /** Keeps what a stream sent, for keys that capture bodies (cut again to the configured size when kept). */
  appendResponse(text: string): void {
    // One character past the limit is enough for the truncation to be told.
    if ((this.responseBody?.length ?? 0) <= this.captureMaxChars) this.responseBody = (this.responseBody ?? "") + text;
  }

  /**
   * A stream's ending, after its headers went out with 200: the client left (499), or the upstream
   * failed mid-stream (502, and the attempt that had answered its first event is marked failed).
   */
  streamEnded(ending: { ok: boolean; failure?: UpstreamFailure } | undefined): void {
    if (ending?.ok) return;
    if (!ending) {
      this.statusOverride = 499;
      return;
    }
    this.statusOverride = 502;
    const last = this.attempts[this.attempts.length - 1];
    if (last) last.outcome = ending.failure?.reason ?? "stream_interrupted";
    this.errorCode = "stream_interrupted";
    this.errorMessage = ending.failure?.message.slice(0, 1_000) ?? "stream interrupted";
  }

  failed(error: unknown): void {
    const { code, message } = error as { code?: unknown; message?: unknown };
    this.errorCode = typeof code === "string" ? code : null;
    this.errorMessage = typeof message === "string" ? message.slice(0, 1_000) : null;
  }

  /** Attempts after the first. */
  get retries(): number {
    return Math.max(0, this.attempts.length - 1);
  }

  /** Attempts that moved to another deployment than the one before. */
  get fallbacks(): number {
    let moves = 0;
    for (let i = 1; i < this.attempts.length; i++) if (this.attempts[i]!.deployment !== this.attempts[i - 1]!.deployment) moves++;
    return moves;
  }
}
