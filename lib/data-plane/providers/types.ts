// The contract every upstream provider implements. Bodies are OpenAI JSON: chat completions for
// complete() and stream(), embeddings for embed().
import { z } from "zod";

export const timeoutsSchema = z
  .object({
    connectMs: z.number().int().positive().max(60_000).default(2_000),
    firstByteMs: z.number().int().positive().max(600_000).default(30_000),
    totalMs: z.number().int().positive().max(3_600_000).default(120_000),
  })
  .default({ connectMs: 2_000, firstByteMs: 30_000, totalMs: 120_000 });
export type Timeouts = z.infer<typeof timeoutsSchema>;

export interface UpstreamCall {
  /** The client's request body (chat completion or embeddings) with `model` replaced by the deployment's upstream model. */
  body: Record<string, unknown>;
  signal: CancelSignal;
}

export type FailureReason =
  | "connect"
  | "timeout_connect"
  | "timeout_first_byte"
  | "timeout_total"
  | "rate_limited"
  | "server_error"
  /** 401/403: the upstream refused the gateway's own credentials (a revoked or expired provider key). */
  | "auth_rejected"
  /** 404: the upstream does not know the deployment's model (or the base URL is wrong). */
  | "model_not_found"
  /** Any other 4xx: the request's own fault, passed on to the client. */
  | "client_error"
  | "protocol"
  /** The client hung up; nobody waits for the answer any more. */
  | "client_gone"
  /** The gateway ended the attempt itself (a stream already failed or finished elsewhere). */
  | "cancelled";

/** Reasons that say nothing about the deployment's health: its circuit and latency stay as they were. */
const NOT_THE_DEPLOYMENTS_FAULT: ReadonlySet<FailureReason> = new Set(["client_error", "client_gone", "cancelled"]);
/** Reasons another deployment may answer differently. */
const RETRYABLE: ReadonlySet<FailureReason> = new Set([
  "connect",
  "timeout_connect",
  "timeout_first_byte",
  "timeout_total",
  "rate_limited",
  "server_error",
  "auth_rejected",
  "model_not_found",
]);
/** Reasons the same deployment will give again at once: retry elsewhere only. */
const PERSISTENT: ReadonlySet<FailureReason> = new Set(["auth_rejected", "model_not_found"]);

/** The failure an upstream's HTTP error status stands for. */
export function reasonForStatus(status: number): FailureReason {
  if (status === 429) return "rate_limited";
  if (status >= 500 || status === 408) return "server_error";
  if (status === 401 || status === 403) return "auth_rejected";
  if (status === 404) return "model_not_found";
  return "client_error";
}

/** An upstream call that failed; `retryable` says whether another deployment may be tried. */
export class UpstreamFailure extends Error {
  override name = "UpstreamFailure";
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly status: number | null = null,
    /** For client_error: the upstream's own error object, passed on to the client. */
    readonly upstreamError?: { message?: string; type?: string; param?: string | null; code?: string | null },
  ) {
    super(message);
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.reason);
  }
  /** False when retrying the same deployment is pointless: only another one may help. */
  get sameDeploymentMayRecover(): boolean {
    return !PERSISTENT.has(this.reason);
  }
  /** Whether this failure counts against the deployment (circuit, failure metrics, last error). */
  get blamesDeployment(): boolean {
    return !NOT_THE_DEPLOYMENTS_FAULT.has(this.reason);
  }
  get isTimeout(): boolean {
    return this.reason.startsWith("timeout");
  }
}

/** A client API an upstream speaks itself (OpenAI's Responses): the client's body in, the API's own answer out. */
export interface NativeApiCalls {
  /** The request in; the API's answer object out (for Responses, the `response` object). */
  create(call: UpstreamCall): Promise<Record<string, unknown>>;
  /** Resolves once the upstream has answered with a stream; yields each event's `data:` payload (Responses sends no `[DONE]`). */
  stream(call: UpstreamCall): Promise<AsyncIterable<string>>;
}

export interface ProviderClient {
  readonly kind: "openai_compatible" | "anthropic" | "simulator";
  /** Set only when the upstream speaks the Responses API itself (an OpenAI-compatible provider's `responsesApi: "native"`). */
  readonly responses?: NativeApiCalls;
  complete(call: UpstreamCall): Promise<Record<string, unknown>>;
  /** Resolves once the upstream has answered with a stream; yields each SSE `data:` payload. */
  stream(call: UpstreamCall): Promise<AsyncIterable<string>>;
  /**
   * An OpenAI embeddings request (`input`: string | string[] | number[] | number[][], `model`,
   * `dimensions`, `encoding_format` float | base64) in; OpenAI's embeddings response out
   * (`{object:"list", data:[{object:"embedding", index, embedding}], model, usage}`; with base64,
   * each embedding is the base64 of its little-endian float32 values).
   */
  embed(call: UpstreamCall): Promise<Record<string, unknown>>;
  /** A cheap round trip for the console's "test connection". */
  probe(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** How a provider learns that an upstream attempt was cancelled, the read side (./cancellation.ts Cancellation). */
export interface CancelSignal {
  readonly aborted: boolean;
  readonly reason: UpstreamFailure | undefined;
  on(event: "abort", listener: () => void): this;
  once(event: "abort", listener: () => void): this;
  removeListener(event: "abort", listener: () => void): this;
}
