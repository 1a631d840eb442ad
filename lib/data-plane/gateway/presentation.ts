// How an endpoint speaks to its client while the chat pipeline (lib/data-plane/gateway/chat-completions.ts)
// does the work: keys, allowed models, limits, routing, retries, circuits, cache, metrics. Chat
// completions present the upstream's answer as it is; other APIs (Responses, Anthropic Messages,
// legacy completions) validate their own request, ask the pipeline in chat form and translate
// the answer back, so every endpoint shares one path to the upstreams. An endpoint may also name
// a native form (`EndpointRequest.native`): deployments whose provider speaks the client's API
// itself get the client's own request and their answer goes back as it is; the choice is made per
// deployment inside each router attempt, so failover crosses forms either way.
import type { CacheDecision } from "../cache/response-cache";
import type { GatewayEndpoint } from "../../platform/metrics/gateway";
import type { NativeApiCalls, ProviderClient, UpstreamCall, UpstreamFailure } from "../providers/types";

export type EndpointName = GatewayEndpoint;

/** One upstream stream chunk in OpenAI's chat.completion.chunk shape. */
export type ChatCompletionChunk = Record<string, unknown> & {
  model?: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  choices?: Array<{ delta?: { content?: string | null; tool_calls?: unknown[] } }>;
};

/** Turns one stream's chat chunks into the endpoint's server-sent events. */
export interface StreamEncoder {
  /** The SSE text for one chunk ("" to send nothing yet). */
  chunk(chunk: ChatCompletionChunk): string;
  /** The SSE text that closes a complete stream. */
  end(): string;
  /** The SSE text that tells a failure once headers are out. */
  error(message: string): string;
}

export interface Presentation {
  /**
   * The client's JSON body from the answer serialised as the cache keeps it: the upstream's
   * answer, or a `CachedAnswer` when the request has a native form.
   */
  json(payload: string): string;
  /** A fresh encoder for one stream. */
  stream(): StreamEncoder;
}

/** What the pipeline sends upstream: a chat completion request, or what `Endpoint.call` takes. */
export type UpstreamBody = Record<string, unknown> & { model: string; stream?: boolean | null };

/** Token counts in chat's terms, whatever API reported them. */
export interface TokenUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  /** Prompt tokens the upstream served from its own prompt cache (charged at the cached rate). */
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
}

/** What a relay reports while it reads a stream: metrics only, nothing the client sees. */
export interface StreamObserver {
  /** The first content or tool-call token arrived. */
  firstToken(): void;
  usage(usage: TokenUsage): void;
}

export type StreamEnding = { ok: true } | { ok: false; failure: UpstreamFailure };

/** Turns one upstream stream's `data:` payloads into the client's server-sent events. */
export interface StreamRelay {
  /** The SSE text for one upstream event ("" to send nothing); throws an UpstreamFailure on an event it cannot read. */
  next(data: string): string;
  /** Set by the event that ended the stream: complete, or a failure the upstream told (already relayed). */
  readonly ending: StreamEnding | undefined;
  /** Why a stream that stopped without its ending is a failure. */
  readonly unfinished: string;
  /** The SSE text that tells a failure once headers are out. */
  error(message: string): string;
}

/** An API some upstreams speak themselves: their deployments get the client's own request. */
export interface NativeForm {
  /** The provider's calls in this API when it speaks it natively; undefined: ask in the endpoint's translated form. */
  callsOf(client: ProviderClient): NativeApiCalls | undefined;
  /** The client's own body; the pipeline replaces `model` by each deployment's upstream model. */
  body: UpstreamBody;
  /** Token counts of a native JSON answer. */
  usageOf(answer: Record<string, unknown>): TokenUsage | undefined;
  /** A relay for one native stream, telling `model` as the answer's model. */
  relay(model: string, observer: StreamObserver): StreamRelay;
}

/** How a request with a native form caches its answer: with the form it is in, so a hit is told back right. */
export interface CachedAnswer {
  form: "native" | "translated";
  answer: Record<string, unknown>;
}

export interface EndpointRequest {
  /** What the pipeline asks the upstreams (chat-completion form unless the endpoint has its own `call`). */
  upstream: UpstreamBody;
  presentation: Presentation;
  /** Set when some upstreams may answer this request in the client's own API. */
  native?: NativeForm;
}

export interface Endpoint {
  name: EndpointName;
  /** Validates the client's parsed JSON body (throwing an AppError naming the field) and translates it. */
  parse(body: unknown): EndpointRequest;
  /** The provider call that answers a JSON request; a chat completion unless said otherwise. */
  call?: (client: ProviderClient, call: UpstreamCall) => Promise<Record<string, unknown>>;
  /** Whether the answer may come from the response cache; the chat rule (temperature 0 or a seed) unless said otherwise. */
  cacheDecision?(body: UpstreamBody, header: string | undefined): CacheDecision;
}

const sse = (data: string) => `data: ${data}\n\n`;

class ChatStreamEncoder implements StreamEncoder {
  chunk(chunk: ChatCompletionChunk): string {
    return sse(JSON.stringify(chunk));
  }
  end(): string {
    return sse("[DONE]");
  }
  error(message: string): string {
    return sse(JSON.stringify({ error: { message, type: "upstream_error", param: null, code: "stream_interrupted" } }));
  }
}

/** Chat completions and embeddings: the answer goes out as the upstream gave it (the model name aside). */
export const asGiven: Presentation = {
  json: (payload) => payload,
  stream: () => new ChatStreamEncoder(),
};
