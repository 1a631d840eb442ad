// An upstream that speaks OpenAI's Chat Completions API (OpenAI itself, vLLM, Ollama, LiteLLM…),
// called through one undici connection pool per provider. Timeouts: connect, first byte
// (response headers), and total (the whole exchange, streams included).
import type { Agent } from "undici";
import { readSseData } from "./sse";
import { type ProviderClient, type Timeouts, type UpstreamCall, UpstreamFailure } from "./types";
import { eventStreamBody, postJson, probeGet, readText, splitBaseUrl, toUpstreamFailure, upstreamAgent } from "./upstream-http";

export interface OpenAICompatibleOptions {
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  timeouts: Timeouts;
}

export class OpenAICompatibleProvider implements ProviderClient {
  readonly kind = "openai_compatible" as const;
  private readonly agent: Agent;
  private readonly origin: string;
  private readonly completionsPath: string;
  private readonly modelsPath: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: OpenAICompatibleOptions) {
    const { origin, basePath, search } = splitBaseUrl(options.baseUrl);
    this.origin = origin;
    this.completionsPath = `${basePath}/chat/completions${search}`;
    this.modelsPath = `${basePath}/models${search}`;
    this.agent = upstreamAgent(options.timeouts);
    this.headers = {
      ...options.headers,
      "content-type": "application/json",
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    };
  }

  async complete(call: UpstreamCall): Promise<Record<string, unknown>> {
    const response = await this.send(call, false);
    const body = await readText(response, call.signal);
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new UpstreamFailure("protocol", "upstream answered with a body that is not JSON", response.statusCode);
    }
  }

  async stream(call: UpstreamCall): Promise<AsyncIterable<string>> {
    const body = await eventStreamBody(await this.send(call, true));
    return (async function* () {
      try {
        yield* readSseData(body);
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
    return postJson(this.agent, {
      origin: this.origin,
      path: this.completionsPath,
      headers: this.headers,
      body: call.body,
      stream,
      timeouts: this.options.timeouts,
      signal: call.signal,
    });
  }
}
