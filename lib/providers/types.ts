// The contract every upstream provider implements. Bodies are OpenAI chat-completion JSON.
import { z } from "zod";
import type { CancelSignal } from "./cancellation";

export const timeoutsSchema = z
  .object({
    connectMs: z.number().int().positive().max(60_000).default(2_000),
    firstByteMs: z.number().int().positive().max(600_000).default(30_000),
    totalMs: z.number().int().positive().max(3_600_000).default(120_000),
  })
  .default({ connectMs: 2_000, firstByteMs: 30_000, totalMs: 120_000 });
export type Timeouts = z.infer<typeof timeoutsSchema>;

export interface UpstreamCall {
  /** The client's request body with `model` replaced by the deployment's upstream model. */
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
  | "client_error"
  | "protocol";

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
    return this.reason !== "client_error" && this.reason !== "protocol";
  }
  get isTimeout(): boolean {
    return this.reason.startsWith("timeout");
  }
}

export interface ProviderClient {
  readonly kind: "openai_compatible" | "anthropic" | "simulator";
  complete(call: UpstreamCall): Promise<Record<string, unknown>>;
  /** Resolves once the upstream has answered with a stream; yields each SSE `data:` payload. */
  stream(call: UpstreamCall): Promise<AsyncIterable<string>>;
  /** A cheap round trip for the console's "test connection". */
  probe(signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
