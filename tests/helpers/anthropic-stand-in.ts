// A stand-in for Anthropic's Messages API, listening on 127.0.0.1, for tests that cannot call the
// paid API. It keeps to the public contract as @anthropic-ai/sdk describes it — the key as
// x-api-key (older SDKs, our provider) or `Authorization: Bearer` (SDK 1.17), anthropic-version, `{type:"error",error:{type,message}}` bodies, Message and stream event
// shapes with `event:` lines (its answers are typed with the SDK's own types) — and answers
// deterministically, so tests can assert exact content and token counts.
//
// Answers: "[<name>] echo: <text of the last user turn's text blocks>" (joined with a space).
// `stop_sequences` cut before the earliest one found (stop_reason "stop_sequence", naming it);
// `max_tokens` then keeps that many tokens ("max_tokens"). tool_choice {type:"tool"} (or "any":
// the first tool) answers with one tool_use block whose input is {}. Tokens: one per
// whitespace-separated word, as in the OpenAI stand-in; input_tokens counts the system prompt and
// every text block. Streams send one text_delta per token and a ping after message_start.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Message, MessageParam, RawMessageStreamEvent, StopReason, Usage } from "@anthropic-ai/sdk/resources/messages";
import type { ErrorType } from "@anthropic-ai/sdk/resources/shared";
import { countTokens, parseJson, randomId, readBody, splitTokens } from "./openai-stand-in";

export interface AnthropicStandInBehaviour {
  /** Fail the next N requests with this status (e.g. 500, 529, 401) and Anthropic's error body. */
  failNext?: { count: number; status: number };
}

export interface RecordedAnthropicRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface AnthropicStandIn {
  /** Base URL to give an Anthropic client or the `anthropic` provider kind (no /v1), e.g. http://127.0.0.1:PORT */
  url: string;
  requests: RecordedAnthropicRequest[];
  behaviour: AnthropicStandInBehaviour;
  reset(): void;
  close(): Promise<void>;
}

export interface AnthropicStandInOptions {
  /** When set, every request must carry it as `x-api-key: <apiKey>` or `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Models that exist; any other is a 404 not_found_error. */
  models?: string[];
  /** Appears in every answer. Defaults to "claude-stand-in". */
  name?: string;
}

const ANTHROPIC_MODELS = ["claude-sonnet-4-5", "claude-haiku-4-5"];

const STATUS_TYPES: Record<number, ErrorType> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
  529: "overloaded_error",
};

export async function startAnthropicStandIn(options: AnthropicStandInOptions = {}): Promise<AnthropicStandIn> {
  const name = options.name ?? "claude-stand-in";
  const models = options.models ?? ANTHROPIC_MODELS;
  const sockets = new Set<Socket>();
  const server = createServer();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const standIn: AnthropicStandIn = {
    url: "",
    requests: [],
    behaviour: {},
    reset() {
      standIn.requests.length = 0;
      standIn.behaviour = {};
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void req.socket.destroy();
      sendError(res, 500, `stand-in error: ${String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const raw = await readBody(req);
    const parsed = raw === null ? { ok: false as const } : parseJson(raw);
    standIn.requests.push({
      method: req.method ?? "GET",
      path,
      headers: req.headers,
      body: parsed.ok ? parsed.value : undefined,
    });

    const fail = standIn.behaviour.failNext;
    if (fail && fail.count > 0) {
      fail.count -= 1;
      return sendError(res, fail.status, `Injected failure (status ${fail.status}).`);
    }
    const presented = req.headers["x-api-key"] ?? req.headers.authorization?.replace(/^Bearer /, "");
    if (options.apiKey !== undefined && presented !== options.apiKey) return sendError(res, 401, "invalid x-api-key");
    if (!req.headers["anthropic-version"]) return sendError(res, 400, "anthropic-version: header is required");

    if (req.method === "GET" && path === "/v1/models") {
      const data = models.map((id) => ({ type: "model", id, display_name: id, created_at: "2025-01-01T00:00:00Z" }));
      return sendJson(res, 200, { data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null });
    }
    if (req.method !== "POST" || path !== "/v1/messages") return sendError(res, 404, `Not found: ${req.method} ${path}`);
    if (!parsed.ok) return sendError(res, 400, "There was an issue with your request body: not valid JSON");
    const request = parsed.value as Partial<Request>;
    if (!Number.isInteger(request.max_tokens) || request.max_tokens! < 1)
      return sendError(res, 400, "max_tokens: Field required");
    if (!Array.isArray(request.messages) || request.messages.length === 0)
      return sendError(res, 400, "messages: at least one message is required");
    if (typeof request.model !== "string" || !models.includes(request.model))
      return sendError(res, 404, `model: ${String(request.model)}`);
    const message = answer(request as Request, name);
    if (request.stream) return sendStream(res, message);
    sendJson(res, 200, message);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standIn;
}

interface Request {
  model: string;
  max_tokens: number;
  messages: MessageParam[];
  system?: string | Array<{ text: string }>;
  stop_sequences?: string[];
  tools?: Array<{ name: string }>;
  tool_choice?: { type: string; name?: string };
  stream?: boolean;
}

function textOf(content: MessageParam["content"]): string {
  if (typeof content === "string") return content;
  return content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join(" ");
}

function answer(request: Request, name: string): Message {
  const system =
    typeof request.system === "string" ? request.system : (request.system ?? []).map((block) => block.text).join(" ");
  const inputTokens =
    countTokens(system) + request.messages.reduce((sum, message) => sum + countTokens(textOf(message.content)), 0);
  const tool =
    request.tool_choice?.type === "tool"
      ? request.tool_choice.name
      : request.tool_choice?.type === "any"
        ? request.tools?.[0]?.name
        : undefined;
  if (tool) {
    return message(
      request.model,
      [{ type: "tool_use", id: `toolu_${randomId(24)}`, name: tool, input: {}, caller: { type: "direct" } }],
      "tool_use",
      null,
      inputTokens,
      2,
    );
  }
  let text = `[${name}] echo: ${textOf(request.messages.findLast((m) => m.role === "user")?.content ?? "")}`;
  let stopReason: StopReason = "end_turn";
  let stopSequence: string | null = null;
  for (const sequence of request.stop_sequences ?? []) {
    const at = sequence ? text.indexOf(sequence) : -1;
    if (at >= 0 && (stopSequence === null || at < text.indexOf(stopSequence))) stopSequence = sequence;
  }
  if (stopSequence !== null) {
    text = text.slice(0, text.indexOf(stopSequence));
    stopReason = "stop_sequence";
  }
  const tokens = splitTokens(text);
  if (tokens.length > request.max_tokens) {
    text = tokens.slice(0, request.max_tokens).join("").trimEnd();
    stopReason = "max_tokens";
    stopSequence = null;
  }
  return message(
    request.model,
    [{ type: "text", text, citations: null }],
    stopReason,
    stopSequence,
    inputTokens,
    countTokens(text),
  );
}

function usage(input: number, output: number): Usage {
  return {
    input_tokens: input,
    output_tokens: output,
    cache_creation: null,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: null,
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: "standard",
    speed: null,
  };
}

function message(
  model: string,
  content: Message["content"],
  stopReason: StopReason,
  stopSequence: string | null,
  input: number,
  output: number,
): Message {
  return {
    id: `msg_${randomId(24)}`,
    type: "message",
    role: "assistant",
    model,
    content,
    container: null,
    diagnostics: null,
    stop_details: null,
    stop_reason: stopReason,
    stop_sequence: stopSequence,
    usage: usage(input, output),
  };
}

function streamEvents(full: Message): RawMessageStreamEvent[] {
  const events: RawMessageStreamEvent[] = [
    {
      type: "message_start",
      message: { ...full, content: [], stop_reason: null, stop_sequence: null, usage: usage(full.usage.input_tokens, 1) },
    },
  ];
  full.content.forEach((block, index) => {
    if (block.type === "text") {
      events.push({ type: "content_block_start", index, content_block: { type: "text", text: "", citations: null } });
      for (const piece of splitTokens(block.text))
        events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text: piece } });
    } else if (block.type === "tool_use") {
      events.push({ type: "content_block_start", index, content_block: { ...block, input: {} } });
      events.push({
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
      });
    }
    events.push({ type: "content_block_stop", index });
  });
  events.push({
    type: "message_delta",
    delta: { stop_reason: full.stop_reason, stop_sequence: full.stop_sequence, container: null, stop_details: null },
    usage: {
      output_tokens: full.usage.output_tokens,
      input_tokens: null,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      output_tokens_details: null,
      server_tool_use: null,
    },
  });
  events.push({ type: "message_stop" });
  return events;
}

function sendStream(res: ServerResponse, full: Message): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "request-id": `req_${randomId(24)}`,
  });
  const [start, ...rest] = streamEvents(full);
  res.write(frame(start!.type, start!));
  res.write(frame("ping", { type: "ping" }));
  for (const event of rest) res.write(frame(event.type, event));
  res.end();
}

const frame = (event: string, data: object) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": `req_${randomId(24)}` });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string): void {
  const type = STATUS_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  sendJson(res, status, { type: "error", error: { type, message }, request_id: null });
}
