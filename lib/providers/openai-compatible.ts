// An upstream that speaks OpenAI's Chat Completions and Embeddings APIs (OpenAI itself, vLLM, Ollama, LiteLLM…),
// called through one undici connection pool per provider. Timeouts: connect, first byte
// (response headers), and total (the whole exchange, streams included). Connections go only to
// addresses the upstream address policy allows, checked in each new connection's DNS lookup.
import { Agent, errors as undiciErrors } from "undici";
import { ADDRESS_REFUSED_CODE, type AddressPolicy, upstreamAddressPolicy } from "../net/address-policy";
import { guardedConnector } from "../net/guarded-connector";
import type Dispatcher from "undici/types/dispatcher";
import type { CancelSignal } from "./cancellation";
import { readSseData } from "./sse";
import { type ProviderClient, reasonForStatus, type Timeouts, type UpstreamCall, UpstreamFailure } from "./types";

export interface OpenAICompatibleOptions {
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  timeouts: Timeouts;
  /** Where connections may go (default: UPSTREAM_DENY_PRIVATE with the system's resolver). */
  addressPolicy?: AddressPolicy;
}

type UpstreamErrorBody = { error?: { message?: string; type?: string; param?: string | null; code?: string | null } };

export class OpenAICompatibleProvider implements ProviderClient {
  readonly kind = "openai_compatible" as const;
  private readonly agent: Agent;
  // Origin and paths apart: undici's request(url) parses the URL again on every call.
  private readonly origin: string;
  private readonly completionsPath: string;
  private readonly embeddingsPath: string;
  private readonly modelsPath: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: OpenAICompatibleOptions) {
    const base = new URL(options.baseUrl);
    const basePath = base.pathname.replace(/\/+$/, "");
    this.origin = base.origin;
    this.completionsPath = `${basePath}/chat/completions${base.search}`;
    this.embeddingsPath = `${basePath}/embeddings${base.search}`;
    this.modelsPath = `${basePath}/models${base.search}`;
    this.agent = new Agent({
      connect: guardedConnector(options.addressPolicy ?? upstreamAddressPolicy(), { timeout: options.timeouts.connectMs }),
      keepAliveTimeout: 10_000,
      connections: 256,
      pipelining: 1,
    });
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

  private async postForJson(path: string, call: UpstreamCall): Promise<Record<string, unknown>> {
    const response = await this.send(path, call, false);
    const body = await this.readBody(response, call);
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new UpstreamFailure("protocol", "upstream answered with a body that is not JSON", response.statusCode);
    }
  }

  async stream(call: UpstreamCall): Promise<AsyncIterable<string>> {
    const response = await this.send(this.completionsPath, call, true);
    const contentType = String(response.headers["content-type"] ?? "");
    if (!contentType.includes("text/event-stream")) {
      await response.body.dump().catch(() => {});
      throw new UpstreamFailure("protocol", `upstream answered a stream request with ${contentType || "no content type"}`, response.statusCode);
    }
    const body = response.body;
    return (async function* () {
      try {
        yield* readSseData(body);
      } catch (error) {
        throw translate(error, call.signal);
      }
    })();
  }

  async probe(signal: AbortSignal): Promise<void> {
    try {
      const response = await this.agent.request({ origin: this.origin, path: this.modelsPath, method: "GET", headers: this.headers, signal });
      await response.body.dump();
      if (response.statusCode >= 400) throw new UpstreamFailure(reasonForStatus(response.statusCode), `GET /models answered ${response.statusCode}`, response.statusCode);
    } catch (error) {
      throw translate(error, signal);
    }
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => {});
  }

  private async send(path: string, call: UpstreamCall, stream: boolean): Promise<Dispatcher.ResponseData> {
    let response: Dispatcher.ResponseData;
    try {
      response = await this.agent.request({
        origin: this.origin,
        path,
        method: "POST",
        headers: stream ? { ...this.headers, accept: "text/event-stream" } : this.headers,
        body: JSON.stringify(call.body),
        headersTimeout: this.options.timeouts.firstByteMs,
        bodyTimeout: this.options.timeouts.firstByteMs,
        signal: call.signal,
      });
    } catch (error) {
      throw translate(error, call.signal);
    }
    if (response.statusCode >= 400) {
      const text = await this.readBody(response, call).catch(() => "");
      let parsed: UpstreamErrorBody = {};
      try {
        parsed = JSON.parse(text) as UpstreamErrorBody;
      } catch {
        // not JSON: keep the status only
      }
      const status = response.statusCode;
      const reason = reasonForStatus(status);
      // A refusal of our credentials may quote part of the key: its text goes nowhere.
      if (reason === "auth_rejected" || reason === "model_not_found") throw new UpstreamFailure(reason, `upstream answered ${status}`, status);
      const message = `upstream answered ${status}${parsed.error?.message ? `: ${parsed.error.message}` : ""}`;
      throw new UpstreamFailure(reason, message, status, reason === "client_error" ? parsed.error : undefined);
    }
    return response;
  }

  private async readBody(response: Dispatcher.ResponseData, call: UpstreamCall): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      throw translate(error, call.signal);
    }
  }
}

/** Maps undici and abort errors onto the failure reasons the router understands. */
function translate(error: unknown, signal: AbortSignal | CancelSignal): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof UpstreamFailure) return reason;
    // An AbortSignal.timeout() (the console's probe) ends with a TimeoutError; anything else was a choice.
    if ((reason as Error | undefined)?.name === "TimeoutError") return new UpstreamFailure("timeout_total", "upstream call timed out");
    return new UpstreamFailure("cancelled", "upstream call was aborted");
  }
  if (error instanceof undiciErrors.ConnectTimeoutError) return new UpstreamFailure("timeout_connect", "upstream connect timed out");
  if (error instanceof undiciErrors.HeadersTimeoutError) return new UpstreamFailure("timeout_first_byte", "upstream sent no response in time");
  if (error instanceof undiciErrors.BodyTimeoutError) return new UpstreamFailure("timeout_first_byte", "upstream stopped sending");
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === ADDRESS_REFUSED_CODE) return Object.assign(new UpstreamFailure("connect", "upstream address refused by policy"), { cause: error });
  return new UpstreamFailure("connect", `upstream connection failed${code ? ` (${code})` : ""}`);
}
