// An upstream that speaks Anthropic's Messages API ({baseUrl}/v1/messages, x-api-key and
// anthropic-version headers). The gateway asks every provider in chat-completion form: requests
// are translated to Messages and answers back to chat, so OpenAI-format clients reach Claude
// models and Anthropic-format clients reach any model. Pool, timeouts, cancellation and status
// mapping are the ones every HTTP upstream shares (../upstream-http.ts).
import type { Agent } from "undici";
import type { AddressPolicy } from "../../../platform/net/address-policy";
import type { ChatCompletionRequest } from "../../gateway/schema";
import { readSseData } from "../sse";
import { type ProviderClient, type Timeouts, type UpstreamCall, UpstreamFailure } from "../types";
import { eventStreamBody, postJson, probeGet, readText, splitBaseUrl, toUpstreamFailure, upstreamAgent } from "../upstream-http";
import { ChatChunksFromMessages, messageToChat, type UpstreamMessage } from "./to-chat";
import { chatToMessagesRequest } from "./to-messages";

/** The Messages API version this translation follows. */
const ANTHROPIC_VERSION = "2023-06-01";

export interface AnthropicOptions {
  /** Without /v1, as Anthropic's SDKs take it: https://api.anthropic.com */
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  timeouts: Timeouts;
  /** Where connections may go (default: UPSTREAM_DENY_PRIVATE with the system's resolver). */
  addressPolicy?: AddressPolicy;
}

export class AnthropicProvider implements ProviderClient {
  readonly kind = "anthropic" as const;
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly messagesPath: string;
  private readonly modelsPath: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: AnthropicOptions) {
    const { origin, basePath, search } = splitBaseUrl(options.baseUrl);
    this.origin = origin;
    this.messagesPath = `${basePath}/v1/messages${search}`;
    this.modelsPath = `${basePath}/v1/models${search}`;
    this.agent = upstreamAgent(options.timeouts, options.addressPolicy);
    this.headers = {
      ...options.headers,
      "content-type": "application/json",
      "anthropic-version": ANTHROPIC_VERSION,
      ...(options.apiKey ? { "x-api-key": options.apiKey } : {}),
    };
  }

  /** The Messages API has no embeddings: the client asked a model that cannot answer this. */
  async embed(): Promise<Record<string, unknown>> {
    const message = "This model is served by an Anthropic provider, which has no embeddings API.";
    throw new UpstreamFailure("client_error", message, 400, {
      message,
      type: "invalid_request_error",
      param: "model",
      code: "unsupported_model",
    });
  }

  async complete(call: UpstreamCall): Promise<Record<string, unknown>> {
    const response = await this.send(call, false);
    const body = await readText(response, call.signal);
    let message: UpstreamMessage;
    try {
      message = JSON.parse(body) as UpstreamMessage;
    } catch {
      throw new UpstreamFailure("protocol", "upstream answered with a body that is not JSON", response.statusCode);
    }
    return messageToChat(message);
  }

  async stream(call: UpstreamCall): Promise<AsyncIterable<string>> {
    const body = await eventStreamBody(await this.send(call, true));
    const includeUsage = (call.body as ChatCompletionRequest).stream_options?.include_usage === true;
    const chunks = new ChatChunksFromMessages(includeUsage);
    return (async function* () {
      try {
        for await (const data of readSseData(body)) {
          let event: Parameters<ChatChunksFromMessages["next"]>[0];
          try {
            event = JSON.parse(data) as typeof event;
          } catch {
            throw new UpstreamFailure("protocol", "upstream sent a stream event that is not JSON");
          }
          yield* chunks.next(event);
        }
      } catch (error) {
        throw toUpstreamFailure(error, call.signal);
      }
    })();
  }

  probe(signal: AbortSignal): Promise<void> {
    return probeGet(this.agent, this.origin, this.modelsPath, this.headers, signal);
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => {});
  }

  private send(call: UpstreamCall, stream: boolean) {
    // Translated before anything is sent: what Messages cannot express is the client's 400.
    const body = chatToMessagesRequest(call.body as ChatCompletionRequest);
    return postJson(this.agent, {
      origin: this.origin,
      path: this.messagesPath,
      headers: this.headers,
      body,
      stream,
      timeouts: this.options.timeouts,
      signal: call.signal,
    });
  }
}
