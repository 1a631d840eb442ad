// A stand-in for OpenAI's Chat Completions API, listening on 127.0.0.1, for tests that cannot call
// the paid API. It keeps to the public contract — status codes, `{error:{message,type,param,code}}`
// bodies, completion and SSE chunk shapes, `[DONE]` — closely enough that the official `openai`
// SDK accepts it (its response types are checked against the SDK's own at compile time), and it
// answers deterministically so tests can assert exact content and token counts.
//
// Answers: "[<name>] echo: <text of the last user message>" (text parts of an array content are
// joined with a space; other parts are ignored). With `response_format: {type:"json_object"}` the
// content is instead `{"name":<name>,"echo":<that text>}`. `stop` cuts before the earliest stop
// sequence; `max_completion_tokens` (or `max_tokens`) then keeps that many tokens and finishes with
// "length". A named `tool_choice`, or "required" (first tool), answers with one tool call whose
// arguments are "{}" (or `toolArguments`; streams send arguments in pieces of a few characters). `n` repeats the same answer n times. `logprobs`, audio and `json_schema`
// formats are not modelled.
//
// Tokens: one token per whitespace-separated word (`countTokens`). prompt_tokens counts the text of
// every message; completion_tokens adds up all choices, a tool call counting as its name and
// arguments (2). Streams send one content chunk per token, so the chunks join to the same text.
//
// Embeddings (POST /v1/embeddings) for the `embeddingModels` (not listed by /models): `input` a
// string, strings, token ids or arrays of them (each non-empty, at most 2048), `dimensions`
// (refused by text-embedding-ada-002, as the API does), `encoding_format` float or base64 (the
// little-endian float32 bytes; the SDK asks for base64 by default and decodes it). Each vector is
// `standInEmbedding(input, dimensions)`: unit length, drawn from the SHA-256 of the input, so equal
// inputs give equal vectors and tests can compute the exact expected values. Default dimensions:
// 3072 for text-embedding-3-large, 1536 otherwise. prompt_tokens: words of each string, or the
// number of token ids.
//
// Responses (POST /v1/responses, JSON and SSE) answer the same way in the Responses API's own
// shapes: the text of the last user message item, `instructions` counting towards input_tokens
// with every message item's text; a named or "required" `tool_choice` answers with one
// function_call item; `max_output_tokens` (at least 16, as the API demands) cuts the text and the
// response is "incomplete"; `text.format` json_object answers the JSON echo. Streams send
// response.created, .in_progress, the item's events (one output_text.delta per token, or
// function_call_arguments.delta pieces) and response.completed (or .incomplete), each with its
// `event:` line and sequence_number; dropStreamAfterChunks counts the deltas. The answer sent
// (the `response` object, for streams the one in the last event) is recorded as `answer`.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import type { Model } from "openai/resources/models";
import type { CompletionUsage } from "openai/resources/completions";
import type { CreateEmbeddingResponse } from "openai/resources/embeddings";
import type {
  Response as ResponsesResponse,
  ResponseOutputItem,
  ResponseStreamEvent,
} from "openai/resources/responses/responses";
import type { ErrorObject } from "openai/resources/shared";
import { z } from "zod";

export interface StandInBehaviour {
  /** Fail the next N requests with this status (e.g. 500, 429, 503) and an OpenAI-style error body; 429 adds Retry-After. */
  failNext?: { count: number; status: number };
  /** Fail every request with this status until changed. Wins over failNext, which is then left unconsumed. */
  failAll?: number | null;
  /** Delay before sending response headers (ms) — used to test first-byte and total timeouts. */
  headerDelayMs?: number;
  /** For streams: delay between chunks (ms). */
  chunkDelayMs?: number;
  /**
   * For streams: after sending this many content chunks, destroy the socket (simulates a mid-stream
   * failure). 0 drops right after the role chunk; a stream with fewer content chunks completes.
   */
  dropStreamAfterChunks?: number | null;
  /** Accept the connection but never answer (stall). The request is still recorded. */
  stall?: boolean;
  /** The arguments of tool-call answers; "{}" when unset. */
  toolArguments?: string;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. "/v1/chat/completions". */
  path: string;
  /** The request target as received, query string included. */
  url: string;
  /** As Node parsed them: lower-cased names. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, untouched; undefined when the body is empty or not JSON (see rawBody). */
  body: unknown;
  rawBody: string;
  /** Date.now() when the request line and headers arrived. */
  receivedAt: number;
  /** Date.now() when the caller closed the connection before the answer was complete, if it did. */
  abandonedAt?: number;
  /** Responses only: the `response` object answered (for a stream, the one its last event carried). */
  answer?: unknown;
}

export interface OpenAIStandIn {
  /** Base URL to give an OpenAI client, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  /** Every request, in the order their bodies finished arriving. */
  requests: RecordedRequest[];
  /** Mutable; read when each request arrives, so a change applies from the next request on. */
  behaviour: StandInBehaviour;
  /** Replaces the behaviour (a copy, so counting down failNext never edits the caller's object). */
  setBehaviour(b: StandInBehaviour): void;
  /** Clears the recorded requests (in place) and the behaviour. */
  reset(): void;
  /** Closes the server and destroys open sockets, stalled ones included. */
  close(): Promise<void>;
}

export interface StandInOptions {
  /** When set, every request must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Models that exist; any other is a 404 model_not_found. Defaults to DEFAULT_MODELS. */
  models?: string[];
  /** Appears in every answer, so tests can tell two stand-ins apart. Defaults to "stand-in". */
  name?: string;
  /** Models /embeddings serves; any other is a 404 model_not_found there. Defaults to DEFAULT_EMBEDDING_MODELS. */
  embeddingModels?: string[];
}

const DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o"];
const DEFAULT_EMBEDDING_MODELS = ["text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"];
/** Seconds announced in Retry-After on every 429. */
export const RETRY_AFTER_SECONDS = 1;

// Fixed so /v1/models is byte-for-byte stable across runs.
const MODEL_CREATED = 1_700_000_000;
// Far above any prompt a test sends; keeps a runaway client from filling memory.
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function startOpenAIStandIn(options: StandInOptions = {}): Promise<OpenAIStandIn> {
  const name = options.name ?? "stand-in";
  const models = options.models ?? DEFAULT_MODELS;
  const sockets = new Set<Socket>();
  const server = createServer();

  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  let closing: Promise<void> | undefined;
  const standIn: OpenAIStandIn = {
    url: "",
    requests: [],
    behaviour: {},
    setBehaviour(b) {
      if (b.failNext && !isErrorStatus(b.failNext.status))
        throw new Error(`failNext.status must be 400-599, got ${b.failNext.status}`);
      if (b.failAll != null && !isErrorStatus(b.failAll)) throw new Error(`failAll must be 400-599, got ${b.failAll}`);
      standIn.behaviour = { ...b, failNext: b.failNext ? { ...b.failNext } : undefined };
    },
    reset() {
      standIn.requests.length = 0;
      standIn.behaviour = {};
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        // Resolves whether or not the server was still listening: closing twice is not a failure.
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };

  const context: Context = {
    name,
    models,
    embeddingModels: options.embeddingModels ?? DEFAULT_EMBEDDING_MODELS,
    apiKey: options.apiKey,
    standIn,
  };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handle(context, req, res).catch((error: unknown) => {
      // A bug in the stand-in must fail the test loudly, not hang it.
      if (res.headersSent || req.socket.destroyed) {
        req.socket.destroy();
        return;
      }
      sendError(res, 500, { message: `stand-in error: ${String(error)}`, type: "server_error", param: null, code: null });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  standIn.url = `http://127.0.0.1:${port}/v1`;
  return standIn;
}

/** The stand-in's token approximation: one token per whitespace-separated word. */
export function countTokens(text: string): number {
  return splitTokens(text).length;
}

interface Context {
  name: string;
  models: string[];
  embeddingModels: string[];
  apiKey: string | undefined;
  standIn: OpenAIStandIn;
}

/** What this request will get, decided once when it arrives. */
interface Plan {
  stall: boolean;
  failure: number | null;
  headerDelayMs: number;
  chunkDelayMs: number;
  dropStreamAfterChunks: number | null;
  toolArguments: string;
}

function planFor(behaviour: StandInBehaviour): Plan {
  const plan: Plan = {
    stall: behaviour.stall === true,
    failure: null,
    headerDelayMs: behaviour.headerDelayMs ?? 0,
    chunkDelayMs: behaviour.chunkDelayMs ?? 0,
    dropStreamAfterChunks: behaviour.dropStreamAfterChunks ?? null,
    toolArguments: behaviour.toolArguments ?? "{}",
  };
  // A stalled request never answers, so it must not use up an injected failure.
  if (plan.stall) return plan;
  if (behaviour.failAll != null) {
    plan.failure = behaviour.failAll;
  } else if (behaviour.failNext && behaviour.failNext.count > 0) {
    behaviour.failNext.count -= 1;
    plan.failure = behaviour.failNext.status;
  }
  return plan;
}

async function handle(context: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const receivedAt = Date.now();
  const plan = planFor(context.standIn.behaviour);
  const aborted = new AbortController();
  let recorded: RecordedRequest | undefined;
  res.once("close", () => {
    if (!res.writableFinished && recorded) recorded.abandonedAt = Date.now();
    aborted.abort();
  });

  const url = req.url ?? "/";
  const path = new URL(url, "http://127.0.0.1").pathname;
  const rawBody = await readBody(req);
  if (rawBody === null) {
    // The unread rest of the body makes the connection unusable, so the client must not reuse it.
    sendError(
      res,
      413,
      { message: `Request body larger than ${MAX_BODY_BYTES} bytes.`, type: "invalid_request_error", param: null, code: null },
      { connection: "close" },
    );
    return;
  }
  const body = parseJson(rawBody);
  recorded = {
    method: req.method ?? "GET",
    path,
    url,
    headers: req.headers,
    body: body.ok ? body.value : undefined,
    rawBody,
    receivedAt,
  };
  context.standIn.requests.push(recorded);

  if (plan.stall) return;
  if (!(await pause(plan.headerDelayMs, aborted.signal))) return;
  const headers = { "x-request-id": `req_${randomBytes(16).toString("hex")}`, "openai-version": "2020-10-01" };

  if (plan.failure !== null) {
    sendError(res, plan.failure, injectedError(plan.failure), headers);
    return;
  }
  if (context.apiKey !== undefined && req.headers.authorization !== `Bearer ${context.apiKey}`) {
    sendError(
      res,
      401,
      { message: "Incorrect API key provided", type: "invalid_request_error", param: null, code: "invalid_api_key" },
      headers,
    );
    return;
  }

  const route = routeOf(req.method ?? "GET", path);
  switch (route.kind) {
    case "chat":
      if (!body.ok) {
        sendError(
          res,
          400,
          {
            message:
              "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            type: "invalid_request_error",
            param: null,
            code: null,
          },
          headers,
        );
        return;
      }
      await chatCompletion(context, body.value, plan, res, headers, aborted.signal);
      return;
    case "embeddings":
      if (!body.ok) {
        sendError(
          res,
          400,
          {
            message: "We could not parse the JSON body of your request.",
            type: "invalid_request_error",
            param: null,
            code: null,
          },
          headers,
        );
        return;
      }
      embeddings(context, body.value, res, headers);
      return;
    case "responses":
      if (!body.ok) {
        sendError(
          res,
          400,
          {
            message: "We could not parse the JSON body of your request.",
            type: "invalid_request_error",
            param: null,
            code: null,
          },
          headers,
        );
        return;
      }
      await createResponse(context, body.value, plan, recorded, res, headers, aborted.signal);
      return;
    case "models":
      sendJson(res, 200, { object: "list", data: context.models.map(modelObject) }, headers);
      return;
    case "model":
      if (!context.models.includes(route.id)) {
        sendError(
          res,
          404,
          {
            message: `The model '${route.id}' does not exist`,
            type: "invalid_request_error",
            param: "model",
            code: "model_not_found",
          },
          headers,
        );
        return;
      }
      sendJson(res, 200, modelObject(route.id), headers);
      return;
    case "wrong_method":
      sendError(
        res,
        405,
        { message: `Invalid method for URL (${req.method} ${path})`, type: "invalid_request_error", param: null, code: null },
        headers,
      );
      return;
    case "unknown":
      sendError(
        res,
        404,
        { message: `Invalid URL (${req.method} ${path})`, type: "invalid_request_error", param: null, code: null },
        headers,
      );
      return;
  }
}

type Route =
  | { kind: "chat" }
  | { kind: "embeddings" }
  | { kind: "responses" }
  | { kind: "models" }
  | { kind: "model"; id: string }
  | { kind: "wrong_method" }
  | { kind: "unknown" };

function routeOf(method: string, path: string): Route {
  const known: Route | undefined =
    path === "/v1/chat/completions"
      ? { kind: "chat" }
      : path === "/v1/embeddings"
        ? { kind: "embeddings" }
        : path === "/v1/responses"
          ? { kind: "responses" }
          : path === "/v1/models"
            ? { kind: "models" }
            : path.startsWith("/v1/models/") && path.length > "/v1/models/".length
              ? { kind: "model", id: decodePath(path.slice("/v1/models/".length)) }
              : undefined;
  if (!known) return { kind: "unknown" };
  const expected = known.kind === "chat" || known.kind === "embeddings" || known.kind === "responses" ? "POST" : "GET";
  return method === expected ? known : { kind: "wrong_method" };
}

function decodePath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape names no model; keeping it raw yields the usual 404.
    return segment;
  }
}

function modelObject(id: string): Model {
  return { id, object: "model", created: MODEL_CREATED, owned_by: "stand-in" };
}

// ---- Chat completions ---------------------------------------------------------------------------

const nameRef = z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) });
const messageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() })), z.null()]).optional(),
});
const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  n: z.number().int().min(1).max(128).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4), z.null()]).optional(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  tools: z.array(nameRef).nullish(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), nameRef]).nullish(),
  response_format: z.looseObject({ type: z.string() }).nullish(),
});
type ChatRequest = z.infer<typeof chatRequestSchema>;

type Reply =
  { kind: "text"; content: string; finishReason: "stop" | "length" } | { kind: "tool"; name: string; arguments: string };

async function chatCompletion(
  context: Context,
  input: unknown,
  plan: Plan,
  res: ServerResponse,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const parsed = chatRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    sendError(res, 400, validationError(parsed.error.issues[0]), headers);
    return;
  }
  const request = parsed.data;
  if (!context.models.includes(request.model)) {
    sendError(
      res,
      404,
      {
        message: `The model \`${request.model}\` does not exist or you do not have access to it.`,
        type: "invalid_request_error",
        param: null,
        code: "model_not_found",
      },
      headers,
    );
    return;
  }
  const invalid = contractError(request);
  if (invalid) {
    sendError(res, 400, invalid, headers);
    return;
  }

  const reply = replyTo(request, context.name, plan.toolArguments);
  const n = request.n ?? 1;
  const toolCallIds = Array.from({ length: n }, () => `call_${randomId(24)}`);
  const completionTokens =
    n * (reply.kind === "text" ? countTokens(reply.content) : countTokens(`${reply.name} ${reply.arguments}`));
  const promptTokens = request.messages.reduce((sum, message) => sum + countTokens(textOf(message.content)), 0);
  const usage: CompletionUsage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  const id = `chatcmpl-${randomId(29)}`;
  const created = Math.floor(Date.now() / 1000);

  if (request.stream) {
    const frames = streamFrames({
      id,
      created,
      model: request.model,
      reply,
      n,
      toolCallIds,
      usage: request.stream_options?.include_usage ? usage : null,
    });
    await sendStream(res, frames, plan, headers, signal);
    return;
  }

  const completion: ChatCompletion = {
    id,
    object: "chat.completion",
    created,
    model: request.model,
    system_fingerprint: "fp_standin",
    choices: toolCallIds.map((callId, index) => ({
      index,
      message:
        reply.kind === "text"
          ? { role: "assistant", content: reply.content, refusal: null }
          : {
              role: "assistant",
              content: null,
              refusal: null,
              tool_calls: [{ id: callId, type: "function", function: { name: reply.name, arguments: reply.arguments } }],
            },
      logprobs: null,
      finish_reason: reply.kind === "text" ? reply.finishReason : "tool_calls",
    })),
    usage,
  };
  sendJson(res, 200, completion, headers);
}

/** Rules the real API enforces that a field-by-field schema cannot express. */
function contractError(request: ChatRequest): ErrorObject | null {
  if (request.stream_options != null && !request.stream) {
    return {
      message: "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      type: "invalid_request_error",
      param: "stream_options",
      code: null,
    };
  }
  const tools = request.tools ?? [];
  if (request.tool_choice != null && tools.length === 0) {
    return {
      message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      type: "invalid_request_error",
      param: "tool_choice",
      code: null,
    };
  }
  const choice = request.tool_choice;
  if (typeof choice === "object" && choice !== null && !tools.some((tool) => tool.function.name === choice.function.name)) {
    return {
      message: `Invalid value for 'tool_choice': function '${choice.function.name}' is not one of the 'tools'.`,
      type: "invalid_request_error",
      param: "tool_choice",
      code: null,
    };
  }
  if (
    request.response_format?.type === "json_object" &&
    !request.messages.some((message) => /json/i.test(textOf(message.content)))
  ) {
    return {
      message: "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
      type: "invalid_request_error",
      param: "messages",
      code: null,
    };
  }
  return null;
}

function replyTo(request: ChatRequest, name: string, toolArguments: string): Reply {
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  if (typeof choice === "object" && choice !== null)
    return { kind: "tool", name: choice.function.name, arguments: toolArguments };
  if (choice === "required" && tools[0]) return { kind: "tool", name: tools[0].function.name, arguments: toolArguments };

  const prompt = lastUserText(request.messages);
  const full =
    request.response_format?.type === "json_object" ? JSON.stringify({ name, echo: prompt }) : `[${name}] echo: ${prompt}`;
  const stopped = cutAtStop(full, request.stop);
  const limit = request.max_completion_tokens ?? request.max_tokens;
  const tokens = splitTokens(stopped);
  if (limit != null && tokens.length > limit)
    return { kind: "text", content: tokens.slice(0, limit).join("").trimEnd(), finishReason: "length" };
  return { kind: "text", content: stopped, finishReason: "stop" };
}

function lastUserText(messages: ChatRequest["messages"]): string {
  const last = messages.findLast((message) => message.role === "user");
  return last ? textOf(last.content) : "";
}

function textOf(content: ChatRequest["messages"][number]["content"]): string {
  if (typeof content === "string") return content;
  if (!content) return "";
  return content.flatMap((part) => (part.type === "text" && part.text !== undefined ? [part.text] : [])).join(" ");
}

function cutAtStop(text: string, stop: ChatRequest["stop"]): string {
  const sequences = (typeof stop === "string" ? [stop] : (stop ?? [])).filter((sequence) => sequence !== "");
  const positions = sequences.map((sequence) => text.indexOf(sequence)).filter((at) => at >= 0);
  return positions.length > 0 ? text.slice(0, Math.min(...positions)) : text;
}

// Arguments stream in pieces of up to 8 characters, as real upstreams split them mid-token.
function argumentPieces(text: string): string[] {
  return text.match(/[^]{1,8}/g) ?? [text];
}

// Each piece is a word with the whitespace after it, so the pieces join back to the exact text.
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text]);
}

// ---- Embeddings ---------------------------------------------------------------------------------

const tokenIds = z.array(z.number().int().min(0)).min(1);
const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(2048), tokenIds, z.array(tokenIds).min(1).max(2048)]),
  dimensions: z.number().int().min(1).nullish(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
});

function embeddings(context: Context, input: unknown, res: ServerResponse, headers: Record<string, string>): void {
  const parsed = embeddingRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    sendError(res, 400, validationError(parsed.error.issues[0]), headers);
    return;
  }
  const request = parsed.data;
  if (!context.embeddingModels.includes(request.model)) {
    sendError(
      res,
      404,
      {
        message: `The model \`${request.model}\` does not exist or you do not have access to it.`,
        type: "invalid_request_error",
        param: null,
        code: "model_not_found",
      },
      headers,
    );
    return;
  }
  if (request.dimensions != null && request.model === "text-embedding-ada-002") {
    sendError(
      res,
      400,
      {
        message: "This model does not support specifying dimensions.",
        type: "invalid_request_error",
        param: "dimensions",
        code: null,
      },
      headers,
    );
    return;
  }
  const dimensions = request.dimensions ?? (request.model === "text-embedding-3-large" ? 3072 : 1536);
  const inputs: Array<string | number[]> =
    typeof request.input === "string"
      ? [request.input]
      : request.input.every((item) => typeof item === "number")
        ? [request.input]
        : request.input;
  const promptTokens = inputs.reduce<number>(
    (sum, item) => sum + (typeof item === "string" ? countTokens(item) : item.length),
    0,
  );
  const response: CreateEmbeddingResponse = {
    object: "list",
    data: inputs.map((item, index) => {
      const vector = standInEmbedding(item, dimensions);
      // The wire carries base64 as a string where the SDK's type says number[]: it decodes it.
      const embedding = request.encoding_format === "base64" ? (float32Base64(vector) as unknown as number[]) : vector;
      return { object: "embedding", index, embedding };
    }),
    model: request.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
  sendJson(res, 200, response, headers);
}

/** The stand-in's vector for one input: unit length, float32 values, from the input's SHA-256. */
export function standInEmbedding(input: string | number[], dimensions: number): number[] {
  const key = typeof input === "string" ? `text:${input}` : `tokens:${input.join(",")}`;
  const raw = new Float64Array(dimensions);
  let block = Buffer.alloc(0);
  for (let i = 0; i < dimensions; i++) {
    if (i % 8 === 0)
      block = createHash("sha256")
        .update(`${key}#${i / 8}`)
        .digest();
    raw[i] = block.readUInt32LE((i % 8) * 4) / 0x1_0000_0000 - 0.5;
  }
  const norm = Math.hypot(...raw) || 1;
  return Array.from(Float32Array.from(raw, (value) => value / norm));
}

function float32Base64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString("base64");
}

// ---- Responses ----------------------------------------------------------------------------------

const responsesText = z.union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))]);
const responsesItem = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: responsesText.optional(),
});
const responsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(responsesItem)]),
  instructions: z.string().nullish(),
  tools: z.array(z.looseObject({ type: z.string(), name: z.string().optional() })).nullish(),
  tool_choice: z
    .union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.literal("function"), name: z.string() })])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().min(16).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  text: z.looseObject({ format: z.looseObject({ type: z.string() }).nullish() }).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  user: z.string().nullish(),
});
/** The wire shape: `output_text` is added by the SDK, not sent by the API; `store` is sent, not in the SDK's type. */
type WireResponse = Omit<ResponsesResponse, "output_text"> & { store: boolean };

function itemText(content: z.infer<typeof responsesText> | undefined): string {
  if (typeof content === "string") return content;
  return (content ?? [])
    .flatMap((part) =>
      (part.type === "input_text" || part.type === "output_text") && part.text !== undefined ? [part.text] : [],
    )
    .join(" ");
}

async function createResponse(
  context: Context,
  input: unknown,
  plan: Plan,
  recorded: RecordedRequest,
  res: ServerResponse,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const parsed = responsesRequestSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    sendError(res, 400, validationError(parsed.error.issues[0]), headers);
    return;
  }
  const request = parsed.data;
  if (!context.models.includes(request.model)) {
    sendError(
      res,
      404,
      {
        message: `The model \`${request.model}\` does not exist or you do not have access to it.`,
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      },
      headers,
    );
    return;
  }
  const tools = request.tools ?? [];
  const choice = request.tool_choice;
  if (
    typeof choice === "object" &&
    choice !== null &&
    !tools.some((tool) => tool.type === "function" && tool.name === choice.name)
  ) {
    sendError(
      res,
      400,
      {
        message: `Tool choice '${choice.name}' not found in 'tools' parameter.`,
        type: "invalid_request_error",
        param: "tool_choice",
        code: null,
      },
      headers,
    );
    return;
  }

  const items = typeof request.input === "string" ? [{ type: "message", role: "user", content: request.input }] : request.input;
  const messages = items.filter((item) => (item.type ?? "message") === "message");
  const prompt = itemText(messages.findLast((item) => item.role === "user")?.content);
  const inputTokens =
    countTokens(request.instructions ?? "") + messages.reduce((sum, item) => sum + countTokens(itemText(item.content)), 0);
  const toolName =
    typeof choice === "object" && choice !== null
      ? choice.name
      : choice === "required"
        ? tools.find((tool) => tool.type === "function")?.name
        : undefined;
  let reply: Reply;
  if (toolName !== undefined) {
    reply = { kind: "tool", name: toolName, arguments: plan.toolArguments };
  } else {
    const full =
      request.text?.format?.type === "json_object"
        ? JSON.stringify({ name: context.name, echo: prompt })
        : `[${context.name}] echo: ${prompt}`;
    const tokens = splitTokens(full);
    const limit = request.max_output_tokens;
    reply =
      limit != null && tokens.length > limit
        ? { kind: "text", content: tokens.slice(0, limit).join("").trimEnd(), finishReason: "length" }
        : { kind: "text", content: full, finishReason: "stop" };
  }
  const outputTokens = reply.kind === "text" ? countTokens(reply.content) : countTokens(`${reply.name} ${reply.arguments}`);
  const incomplete = reply.kind === "text" && reply.finishReason === "length";
  const item: ResponseOutputItem =
    reply.kind === "text"
      ? {
          type: "message",
          id: `msg_${randomBytes(24).toString("hex")}`,
          status: incomplete ? "incomplete" : "completed",
          role: "assistant",
          content: [{ type: "output_text", text: reply.content, annotations: [], logprobs: [] }],
        }
      : {
          type: "function_call",
          id: `fc_${randomBytes(24).toString("hex")}`,
          call_id: `call_${randomId(24)}`,
          name: reply.name,
          arguments: reply.arguments,
          status: "completed",
        };
  const response: WireResponse = {
    id: `resp_${randomBytes(24).toString("hex")}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status: incomplete ? "incomplete" : "completed",
    background: false,
    error: null,
    incomplete_details: incomplete ? { reason: "max_output_tokens" } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    model: request.model,
    output: [item],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: request.store ?? true,
    temperature: request.temperature ?? 1,
    text: { format: (request.text?.format ?? { type: "text" }) as NonNullable<ResponsesResponse["text"]>["format"] },
    tool_choice: choice ?? "auto",
    tools: tools as ResponsesResponse["tools"],
    top_p: request.top_p ?? 1,
    truncation: "disabled",
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
  };
  recorded.answer = response;
  if (request.stream) {
    await sendStream(res, responseFrames(response, reply), plan, headers, signal);
    return;
  }
  sendJson(res, 200, response, headers);
}

/** The events of one response's stream, as the API sends them for a single output item. */
function responseFrames(final: WireResponse, reply: Reply): Frame[] {
  let sequence = 0;
  const frames: Frame[] = [];
  // Typed against the SDK's events; `response` carries the wire shape (no output_text).
  const push = (event: DistributiveOmit<ResponseStreamEvent, "sequence_number">, content = false) => {
    const data = JSON.stringify({ ...event, sequence_number: sequence++ });
    frames.push({ data: `event: ${event.type}\ndata: ${data}\n\n`, content });
  };
  const asResponse = (response: WireResponse) => response as unknown as ResponsesResponse;
  const started: WireResponse = { ...final, status: "in_progress", incomplete_details: null, output: [], usage: undefined };
  push({ type: "response.created", response: asResponse(started) });
  push({ type: "response.in_progress", response: asResponse(started) });
  const item = final.output[0]!;
  const address = { item_id: item.id!, output_index: 0 };
  if (item.type === "message" && reply.kind === "text") {
    push({ type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", content: [] } });
    push({
      type: "response.content_part.added",
      ...address,
      content_index: 0,
      part: { type: "output_text", text: "", annotations: [], logprobs: [] },
    });
    for (const piece of splitTokens(reply.content))
      push({ type: "response.output_text.delta", ...address, content_index: 0, delta: piece, logprobs: [] }, true);
    push({ type: "response.output_text.done", ...address, content_index: 0, text: reply.content, logprobs: [] });
    push({ type: "response.content_part.done", ...address, content_index: 0, part: item.content[0]! });
  } else if (item.type === "function_call" && reply.kind === "tool") {
    push({ type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", arguments: "" } });
    for (const piece of argumentPieces(reply.arguments))
      push({ type: "response.function_call_arguments.delta", ...address, delta: piece }, true);
    push({ type: "response.function_call_arguments.done", ...address, name: item.name, arguments: reply.arguments });
  }
  push({ type: "response.output_item.done", output_index: 0, item });
  if (final.status === "incomplete") push({ type: "response.incomplete", response: asResponse(final) });
  else push({ type: "response.completed", response: asResponse(final) });
  return frames;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

// ---- Streaming ----------------------------------------------------------------------------------

interface Frame {
  data: string;
  /** Counts towards dropStreamAfterChunks. */
  content: boolean;
}

interface StreamInput {
  id: string;
  created: number;
  model: string;
  reply: Reply;
  n: number;
  toolCallIds: string[];
  /** Set when stream_options.include_usage: every chunk then carries `usage`, null until the last. */
  usage: CompletionUsage | null;
}

// Choices are interleaved the way the real API does it: each choice's role chunk, then piece k of
// every choice, then each choice's finish chunk.
function streamFrames(input: StreamInput): Frame[] {
  const chunk = (choices: ChatCompletionChunk.Choice[], usage?: CompletionUsage): string => {
    const body: ChatCompletionChunk = {
      id: input.id,
      object: "chat.completion.chunk",
      created: input.created,
      model: input.model,
      system_fingerprint: "fp_standin",
      choices,
      ...(input.usage ? { usage: usage ?? null } : {}),
    };
    return `data: ${JSON.stringify(body)}\n\n`;
  };
  const choice = (
    index: number,
    delta: ChatCompletionChunk.Choice.Delta,
    finish: ChatCompletionChunk.Choice["finish_reason"] = null,
  ): ChatCompletionChunk.Choice => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  const indexes = Array.from({ length: input.n }, (_, index) => index);
  const { reply } = input;
  const frames: Frame[] = [];

  for (const index of indexes) {
    const first: ChatCompletionChunk.Choice.Delta =
      reply.kind === "text"
        ? { role: "assistant", content: "" }
        : {
            role: "assistant",
            content: null,
            tool_calls: [
              { index: 0, id: input.toolCallIds[index], type: "function", function: { name: reply.name, arguments: "" } },
            ],
          };
    frames.push({ data: chunk([choice(index, first)]), content: false });
  }
  const pieces = reply.kind === "text" ? splitTokens(reply.content) : argumentPieces(reply.arguments);
  for (const piece of pieces) {
    for (const index of indexes) {
      const delta: ChatCompletionChunk.Choice.Delta =
        reply.kind === "text" ? { content: piece } : { tool_calls: [{ index: 0, function: { arguments: piece } }] };
      frames.push({ data: chunk([choice(index, delta)]), content: true });
    }
  }
  for (const index of indexes) {
    frames.push({ data: chunk([choice(index, {}, reply.kind === "text" ? reply.finishReason : "tool_calls")]), content: false });
  }
  if (input.usage) frames.push({ data: chunk([], input.usage), content: false });
  frames.push({ data: "data: [DONE]\n\n", content: false });
  return frames;
}

// The frame after which the socket is destroyed, or -1 when the stream is to complete.
function dropIndex(frames: Frame[], dropAfter: number | null): number {
  if (dropAfter === null) return -1;
  const contentAt = frames.flatMap((frame, at) => (frame.content ? [at] : []));
  if (dropAfter === 0) return contentAt.length > 0 ? contentAt[0]! - 1 : -1;
  return contentAt[dropAfter - 1] ?? -1;
}

async function sendStream(
  res: ServerResponse,
  frames: Frame[],
  plan: Plan,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const socket = res.req.socket;
  res.writeHead(200, {
    ...headers,
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  const dropAt = dropIndex(frames, plan.dropStreamAfterChunks);
  for (const [at, frame] of frames.entries()) {
    if (at > 0 && !(await pause(plan.chunkDelayMs, signal))) return;
    if (signal.aborted) return;
    if (at === dropAt) {
      // Destroy only once this frame has reached the kernel, so the client really receives it.
      res.write(frame.data, () => socket.destroy());
      return;
    }
    res.write(frame.data);
  }
  res.end();
}

// ---- Errors and plumbing ------------------------------------------------------------------------

const INJECTED_ERRORS: Record<number, ErrorObject> = {
  400: { message: "Bad request.", type: "invalid_request_error", param: null, code: null },
  401: { message: "Incorrect API key provided", type: "invalid_request_error", param: null, code: "invalid_api_key" },
  403: { message: "You are not allowed to access this resource.", type: "invalid_request_error", param: null, code: null },
  404: { message: "The requested resource was not found.", type: "invalid_request_error", param: null, code: null },
  429: {
    message: "Rate limit reached for requests. Please try again later.",
    type: "requests",
    param: null,
    code: "rate_limit_exceeded",
  },
  500: {
    message: "The server had an error while processing your request. Sorry about that!",
    type: "server_error",
    param: null,
    code: null,
  },
  502: { message: "Bad gateway.", type: "server_error", param: null, code: null },
  503: { message: "The server is overloaded or not ready yet.", type: "server_error", param: null, code: null },
  504: { message: "Gateway timeout.", type: "server_error", param: null, code: null },
};

function injectedError(status: number): ErrorObject {
  return (
    INJECTED_ERRORS[status] ?? {
      message: `Injected failure (status ${status}).`,
      type: status >= 500 ? "server_error" : "invalid_request_error",
      param: null,
      code: null,
    }
  );
}

function isErrorStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 400 && status <= 599;
}

// Turns the first schema issue into the error the real API gives for that kind of mistake.
function validationError(issue: z.core.$ZodIssue | undefined): ErrorObject {
  if (!issue) return { message: "Invalid request.", type: "invalid_request_error", param: null, code: null };
  const param = issue.path.reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
  const error = (message: string, code: string): ErrorObject => ({
    message,
    type: "invalid_request_error",
    param: param || null,
    code,
  });
  if (!param) return error("The request body must be a JSON object.", "invalid_type");
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? error(`Missing required parameter: '${param}'.`, "missing_required_parameter")
        : error(
            `Invalid type for '${param}': expected ${issue.expected}, but got ${jsonType(issue.input)} instead.`,
            "invalid_type",
          );
    case "too_small":
      return issue.origin === "array"
        ? error(
            `Invalid '${param}': empty array. Expected an array with minimum length ${issue.minimum}, but got an empty array instead.`,
            "empty_array",
          )
        : error(
            `Invalid '${param}': integer below minimum value. Expected a value >= ${issue.minimum}, but got ${String(issue.input)} instead.`,
            "integer_below_min_value",
          );
    case "too_big":
      return issue.origin === "array"
        ? error(
            `Invalid '${param}': array too long. Expected an array with maximum length ${issue.maximum}.`,
            "array_above_max_length",
          )
        : error(
            `Invalid '${param}': integer above maximum value. Expected a value <= ${issue.maximum}, but got ${String(issue.input)} instead.`,
            "integer_above_max_value",
          );
    default:
      return error(`Invalid value for '${param}'.`, "invalid_value");
  }
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, error: ErrorObject, headers: Record<string, string> = {}): void {
  const extra: Record<string, string> =
    status === 429
      ? {
          "retry-after": String(RETRY_AFTER_SECONDS),
          "x-ratelimit-remaining-requests": "0",
          "x-ratelimit-reset-requests": `${RETRY_AFTER_SECONDS}s`,
        }
      : {};
  sendJson(res, status, { error }, { ...headers, ...extra });
}

// null when the body exceeds MAX_BODY_BYTES; the rest is not read.
export async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // Reported to the client as the API's 400; the raw text stays in the recording.
    return { ok: false };
  }
}

// false when the client went away (or the stand-in closed) during the pause.
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  }
}

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomId(length: number): string {
  const bytes = randomBytes(length);
  let id = "";
  for (let at = 0; at < length; at++) id += ID_ALPHABET[bytes[at]! % ID_ALPHABET.length];
  return id;
}
