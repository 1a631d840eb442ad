// How an endpoint speaks to its client while the chat pipeline (lib/gateway/chat-completions.ts)
// does the work: keys, allowed models, limits, routing, retries, circuits, cache, metrics. Chat
// completions present the upstream's answer as it is; other APIs (Responses, Anthropic Messages,
// legacy completions) validate their own request, ask the pipeline in chat form and translate
// the answer back, so every endpoint shares one path to the upstreams.
import type { CacheDecision } from "../cache/response-cache";
import type { GatewayEndpoint } from "../metrics/gateway";
import type { ProviderClient, UpstreamCall } from "../providers/types";

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
  /** The client's JSON body, from the chat completion serialised as the cache keeps it. */
  json(payload: string): string;
  /** A fresh encoder for one stream. */
  stream(): StreamEncoder;
}

/** What the pipeline sends upstream: a chat completion request, or what `Endpoint.call` takes. */
export type UpstreamBody = Record<string, unknown> & { model: string; stream?: boolean | null };

export interface EndpointRequest {
  /** What the pipeline asks the upstreams (chat-completion form unless the endpoint has its own `call`). */
  upstream: UpstreamBody;
  presentation: Presentation;
}

export interface Endpoint {
  name: EndpointName;
  /** Validates the client's parsed JSON body (throwing an AppError naming the field) and translates it. */
  parse(body: unknown): EndpointRequest;
  /** The provider call that answers a JSON request; a chat completion unless said otherwise. */
  call?(client: ProviderClient, call: UpstreamCall): Promise<Record<string, unknown>>;
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
