// What every HTTP upstream shares, whatever API it speaks: one undici pool per provider, the
// connect / first-byte / total timeouts, cancellation, and the mapping of statuses and transport
// errors onto the failure reasons the router acts on (one mapping for every provider kind).
// Connections go only to addresses the upstream address policy allows, checked in each new
// connection's DNS lookup.
import { Agent, errors as undiciErrors } from "undici";
import type Dispatcher from "undici/types/dispatcher";
import { ADDRESS_REFUSED_CODE, type AddressPolicy, upstreamAddressPolicy } from "../../platform/net/address-policy";
import { guardedConnector } from "../../platform/net/guarded-connector";
import { type CancelSignal, reasonForStatus, type Timeouts, UpstreamFailure } from "./types";

/** An upstream's error body: OpenAI's `{error:{message,type,param,code}}`; Anthropic's `{type:"error",error:{type,message}}` fits it too. */
type UpstreamErrorBody = { error?: { message?: string; type?: string; param?: string | null; code?: string | null } };

/** One provider's pool; `addressPolicy` defaults to UPSTREAM_DENY_PRIVATE with the system's resolver. */
export function upstreamAgent(timeouts: Timeouts, addressPolicy: AddressPolicy = upstreamAddressPolicy()): Agent {
  return new Agent({
    connect: guardedConnector(addressPolicy, { timeout: timeouts.connectMs }),
    keepAliveTimeout: 10_000,
    connections: 256,
    pipelining: 1,
  });
}

/** Origin and base path apart: undici's request(url) parses the URL again on every call. */
export function splitBaseUrl(baseUrl: string): { origin: string; basePath: string; search: string } {
  const base = new URL(baseUrl);
  return { origin: base.origin, basePath: base.pathname.replace(/\/+$/, ""), search: base.search };
}

export interface JsonPost {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  stream: boolean;
  timeouts: Timeouts;
  signal: CancelSignal;
}

/** POSTs a JSON body; an error status becomes the UpstreamFailure its status calls for. */
export async function postJson(agent: Agent, post: JsonPost): Promise<Dispatcher.ResponseData> {
  let response: Dispatcher.ResponseData;
  try {
    response = await agent.request({
      origin: post.origin,
      path: post.path,
      method: "POST",
      headers: post.stream ? { ...post.headers, accept: "text/event-stream" } : post.headers,
      body: JSON.stringify(post.body),
      headersTimeout: post.timeouts.firstByteMs,
      bodyTimeout: post.timeouts.firstByteMs,
      signal: post.signal,
    });
  } catch (error) {
    throw toUpstreamFailure(error, post.signal);
  }
  if (response.statusCode >= 400) {
    const text = await readText(response, post.signal).catch(() => "");
    let parsed: UpstreamErrorBody = {};
    try {
      parsed = JSON.parse(text) as UpstreamErrorBody;
    } catch {
      // not JSON: keep the status only
    }
    throw failureForStatus(response.statusCode, parsed.error);
  }
  return response;
}

/** The failure an upstream's error status stands for. */
function failureForStatus(status: number, upstreamError?: UpstreamErrorBody["error"]): UpstreamFailure {
  const reason = reasonForStatus(status);
  // A refusal of our credentials may quote part of the key: its text goes nowhere.
  if (reason === "auth_rejected" || reason === "model_not_found")
    return new UpstreamFailure(reason, `upstream answered ${status}`, status);
  const message = `upstream answered ${status}${upstreamError?.message ? `: ${upstreamError.message}` : ""}`;
  return new UpstreamFailure(reason, message, status, reason === "client_error" ? upstreamError : undefined);
}

/** A cheap GET that must answer 2xx: the console's "test connection". */
export async function probeGet(
  agent: Agent,
  origin: string,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  try {
    const response = await agent.request({ origin, path, method: "GET", headers, signal });
    await response.body.dump();
    if (response.statusCode >= 400)
      throw new UpstreamFailure(
        reasonForStatus(response.statusCode),
        `GET ${path} answered ${response.statusCode}`,
        response.statusCode,
      );
  } catch (error) {
    throw toUpstreamFailure(error, signal);
  }
}

export async function readText(response: Dispatcher.ResponseData, signal: AbortSignal | CancelSignal): Promise<string> {
  try {
    return await response.body.text();
  } catch (error) {
    throw toUpstreamFailure(error, signal);
  }
}

/** A stream's body as it arrives, failing with the router's reasons; a non-stream answer is a protocol failure. */
export async function eventStreamBody(response: Dispatcher.ResponseData): Promise<Dispatcher.ResponseData["body"]> {
  const contentType = String(response.headers["content-type"] ?? "");
  if (!contentType.includes("text/event-stream")) {
    await response.body.dump().catch(() => {});
    throw new UpstreamFailure(
      "protocol",
      `upstream answered a stream request with ${contentType || "no content type"}`,
      response.statusCode,
    );
  }
  return response.body;
}

/** Maps undici and abort errors onto the failure reasons the router understands. */
export function toUpstreamFailure(error: unknown, signal: AbortSignal | CancelSignal): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof UpstreamFailure) return reason;
    // An AbortSignal.timeout() (the console's probe) ends with a TimeoutError; anything else was a choice.
    if ((reason as Error | undefined)?.name === "TimeoutError")
      return new UpstreamFailure("timeout_total", "upstream call timed out");
    return new UpstreamFailure("cancelled", "upstream call was aborted");
  }
  if (error instanceof undiciErrors.ConnectTimeoutError)
    return new UpstreamFailure("timeout_connect", "upstream connect timed out");
  if (error instanceof undiciErrors.HeadersTimeoutError)
    return new UpstreamFailure("timeout_first_byte", "upstream sent no response in time");
  if (error instanceof undiciErrors.BodyTimeoutError)
    return new UpstreamFailure("timeout_first_byte", "upstream stopped sending");
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (code === ADDRESS_REFUSED_CODE)
    return Object.assign(new UpstreamFailure("connect", "upstream address refused by policy"), { cause: error });
  return new UpstreamFailure("connect", `upstream connection failed${code ? ` (${code})` : ""}`);
}
