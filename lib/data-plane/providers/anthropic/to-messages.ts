// A chat-completion request as an Anthropic Messages request, for the `anthropic` provider kind.
// Pure. System and developer messages become `system`; tool messages become tool_result blocks
// in a user turn (consecutive turns of one role are merged, as the Messages API wants them
// alternating); image_url parts become image blocks. What Messages cannot express is refused as
// the client's mistake (a 400), never sent half-translated.
import type { ChatCompletionRequest } from "../../gateway/schema";
import { UpstreamFailure } from "../types";

/** Messages requires max_tokens; a chat request may leave it out. */
export const DEFAULT_MAX_TOKENS = 4_096;

type ChatMessage = ChatCompletionRequest["messages"][number];

export type RequestBlock =
  | { type: "text"; text: string }
  | { type: "image"; source: { type: "base64"; media_type: string; data: string } | { type: "url"; url: string } }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> }
  | { type: "tool_result"; tool_use_id: string; content: string };

export interface MessagesRequestBody {
  model: string;
  max_tokens: number;
  messages: Array<{ role: "user" | "assistant"; content: RequestBlock[] }>;
  system?: string;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  tools?: Array<{ name: string; description?: string; input_schema: Record<string, unknown> }>;
  tool_choice?:
    | { type: "auto" | "any" | "none" }
    | { type: "tool"; name: string }
    | { type: "auto" | "any" | "tool"; name?: string; disable_parallel_tool_use: true };
  metadata?: { user_id: string };
  stream?: boolean;
}

function unsupported(message: string, param: string): UpstreamFailure {
  return new UpstreamFailure("client_error", `not expressible in Anthropic's Messages API: ${message}`, 400, {
    message: `This model's provider speaks Anthropic's Messages API, which cannot take this request: ${message}.`,
    type: "invalid_request_error",
    param,
    code: "unsupported_parameter",
  });
}

export function chatToMessagesRequest(chat: ChatCompletionRequest): MessagesRequestBody {
  if ((chat.n ?? 1) !== 1) throw unsupported("n must be 1", "n");
  const system: string[] = [];
  const messages: MessagesRequestBody["messages"] = [];
  for (const [at, message] of chat.messages.entries()) {
    if (message.role === "system" || message.role === "developer") {
      system.push(textOf(message.content, `messages[${at}].content`));
      continue;
    }
    const turn = toTurn(message, at);
    const previous = messages.at(-1);
    if (previous?.role === turn.role) previous.content.push(...turn.content);
    else messages.push(turn);
  }
  const body: MessagesRequestBody = {
    model: chat.model,
    max_tokens: chat.max_completion_tokens ?? chat.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length) body.system = system.join("\n\n");
  const stop = typeof chat.stop === "string" ? [chat.stop] : chat.stop;
  if (stop?.length) body.stop_sequences = stop;
  // Anthropic's temperature runs 0..1 where OpenAI's runs 0..2: the top of the scale is kept.
  if (chat.temperature != null) body.temperature = Math.min(chat.temperature, 1);
  if (chat.top_p != null) body.top_p = chat.top_p;
  if (chat.user) body.metadata = { user_id: chat.user };
  if (chat.tools?.length) {
    body.tools = chat.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: "object", properties: {} },
    }));
  }
  const choice = toolChoice(chat);
  if (choice) body.tool_choice = choice;
  if (chat.stream) body.stream = true;
  return body;
}

function toolChoice(chat: ChatCompletionRequest): MessagesRequestBody["tool_choice"] | undefined {
  const serial = (chat as { parallel_tool_calls?: unknown }).parallel_tool_calls === false;
  const choice = chat.tool_choice;
  const base =
    choice === undefined
      ? serial && chat.tools?.length
        ? { type: "auto" as const }
        : undefined
      : choice === "none"
        ? { type: "none" as const }
        : choice === "auto"
          ? { type: "auto" as const }
          : choice === "required"
            ? { type: "any" as const }
            : { type: "tool" as const, name: choice.function.name };
  if (!base) return undefined;
  return serial && base.type !== "none" ? { ...base, disable_parallel_tool_use: true } : base;
}

function toTurn(message: ChatMessage, at: number): MessagesRequestBody["messages"][number] {
  switch (message.role) {
    case "user":
      return { role: "user", content: userBlocks(message.content, `messages[${at}].content`) };
    case "assistant": {
      const content: RequestBlock[] =
        message.content == null ? [] : [{ type: "text", text: textOf(message.content, `messages[${at}].content`) }];
      for (const call of message.tool_calls ?? []) {
        content.push({
          type: "tool_use",
          id: call.id,
          name: call.function.name,
          input: parseArguments(call.function.arguments, `messages[${at}].tool_calls`),
        });
      }
      return { role: "assistant", content: content.filter((block) => block.type !== "text" || block.text !== "") };
    }
    case "tool":
      return {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: message.tool_call_id, content: textOf(message.content, `messages[${at}].content`) },
        ],
      };
    default:
      throw unsupported(`messages of role '${message.role}'`, `messages[${at}].role`);
  }
}

type Content = Extract<ChatMessage, { role: "user" }>["content"];

function textOf(content: Content, param: string): string {
  if (typeof content === "string") return content;
  return content
    .map((part) => {
      if (part.type !== "text") throw unsupported(`content parts of type '${part.type}' here`, param);
      return String(part.text);
    })
    .join("\n");
}

function userBlocks(content: Content, param: string): RequestBlock[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content.map((part): RequestBlock => {
    if (part.type === "text") return { type: "text", text: String(part.text) };
    if (part.type === "image_url") return imageBlock((part as { image_url?: { url?: unknown } }).image_url?.url, param);
    throw unsupported(`content parts of type '${part.type}'`, param);
  });
}

const DATA_URL = /^data:(image\/(?:jpeg|png|gif|webp));base64,(.+)$/s;

function imageBlock(url: unknown, param: string): RequestBlock {
  if (typeof url !== "string") throw unsupported("an image_url part without a url", param);
  const data = DATA_URL.exec(url);
  if (data) return { type: "image", source: { type: "base64", media_type: data[1]!, data: data[2]! } };
  if (/^https?:\/\//.test(url)) return { type: "image", source: { type: "url", url } };
  throw unsupported("images other than http(s) URLs or base64 JPEG, PNG, GIF and WebP data URLs", param);
}

function parseArguments(json: string, param: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(json || "{}");
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // told below
  }
  throw unsupported("tool call arguments that are not a JSON object", param);
}
