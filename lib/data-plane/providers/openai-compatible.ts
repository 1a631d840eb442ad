// An upstream that speaks OpenAI's Chat Completions and Embeddings APIs (OpenAI itself, vLLM,
// Ollama, LiteLLM…), and, when marked so, the Responses API natively; called through one undici
// connection pool per provider. Timeouts: connect, first byte (response headers), and total (the
// whole exchange, streams included).
import type { Agent } from "undici";
import type { AddressPolicy } from "../../platform/net/address-policy";
import { readSseData } from "./sse";
import type { ResponsesApiMode } from "./responses-api";
import { type NativeApiCalls, type ProviderClient, type Timeouts, type UpstreamCall, UpstreamFailure } from "./types";
import { eventStreamBody, postJson, probeGet, readText, splitBaseUrl, toUpstreamFailure, upstreamAgent } from "./upstream-http";

export interface OpenAICompatibleOptions {
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  timeouts: Timeouts;
  /** Where connections may go (default: UPSTREAM_DENY_PRIVATE with the system's resolver). */
  addressPolicy?: AddressPolicy;
  /** "native": the upstream serves POST {baseUrl}/responses (default "translate": it does not). */
  responsesApi?: ResponsesApiMode;
}

export class OpenAICompatibleProvider implements ProviderClient {
  readonly kind = "openai_compatible" as const;
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly completionsPath: string;
  private readonly embeddingsPath: string;
  private readonly modelsPath: string;
  private readonly headers: Record<string, string>;
  readonly responses?: NativeApiCalls;

  constructor(private readonly options: OpenAICompatibleOptions) {
    const { origin, basePath, search } = splitBaseUrl(options.baseUrl);
    this.origin = origin;
    this.completionsPath = `${basePath}/chat/completions${search}`;
    this.embeddingsPath = `${basePath}/embeddings${search}`;
    this.modelsPath = `${basePath}/models${search}`;
    if (options.responsesApi === "native") {
      const responsesPath = `${basePath}/responses${search}`;
      this.responses = {
        create: (call) => this.postForJson(responsesPath, call),
        stream: (call) => this.streamFrom(responsesPath, call),
      };
    }
    this.agent = upstreamAgent(options.timeouts, options.addressPolicy);
    this.headers = {
      ...options.headers,
      "content-type": "application/json",
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    };
  }

  complete(call: UpstreamCall): Promise<Record<string, unknown>> {
    return this.postForJson(this.completionsPath, call);
  }

  embed(call: UpstreamCall): Promise<Record<string, unknown>> {
    return this.postForJson(this.embeddingsPath, call);
  }

  stream(call: UpstreamCall): Promise<AsyncIterable<string>> {
    return this.streamFrom(this.completionsPath, call);
  }

  probe(signal: AbortSignal): Promise<void> {
    return probeGet(this.agent, this.origin, this.modelsPath, this.headers, signal);
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => {});
  }

  private async streamFrom(path: string, call: UpstreamCall): Promise<AsyncIterable<string>> {
    const body = await eventStreamBody(await this.send(path, call, true));
    return (async function* () {
      try {
        yield* readSseData(body);
      } catch (error) {
        throw toUpstreamFailure(error, call.signal);
      }
    })();
  }

  private async postForJson(path: string, call: UpstreamCall): Promise<Record<string, unknown>> {
    const response = await this.send(path, call, false);
    const body = await readText(response, call.signal);
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new UpstreamFailure("protocol", "upstream answered with a body that is not JSON", response.statusCode);
    }
  }

  private send(path: string, call: UpstreamCall, stream: boolean) {
    return postJson(this.agent, {
      origin: this.origin,
      path,
      headers: this.headers,
      body: call.body,
      stream,
      timeouts: this.options.timeouts,
      signal: call.signal,
    });
  }
}
