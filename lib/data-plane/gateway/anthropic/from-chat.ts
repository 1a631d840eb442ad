// A chat completion told as an Anthropic Message (the JSON answer of POST /v1/messages). Pure.
export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

export type ResponseBlock =
  { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: ResponseBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: { input_tokens: number; output_tokens: number };
}

interface ChatToolCall {
  id?: string;
  function?: { name?: string; arguments?: string };
}

interface ChatChoice {
  message?: { content?: string | null; tool_calls?: ChatToolCall[] | null };
  finish_reason?: string | null;
  /** The stop sequence that ended the answer, where the upstream tells it (vLLM's convention; our anthropic provider). */
  stop_reason?: unknown;
}

export interface ChatCompletion {
  id?: string;
  model?: string;
  choices?: ChatChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
}

export interface Stop {
  stop_reason: StopReason | null;
  stop_sequence: string | null;
}

/** finish_reason → stop_reason; a stop named by the upstream becomes stop_sequence. */
export function stopOf(finishReason: string | null | undefined, stoppedBy: unknown): Stop {
  switch (finishReason) {
    case "stop":
      return typeof stoppedBy === "string"
        ? { stop_reason: "stop_sequence", stop_sequence: stoppedBy }
        : { stop_reason: "end_turn", stop_sequence: null };
    case "length":
      return { stop_reason: "max_tokens", stop_sequence: null };
    case "tool_calls":
    case "function_call":
      return { stop_reason: "tool_use", stop_sequence: null };
    case "content_filter":
      return { stop_reason: "refusal", stop_sequence: null };
    case null:
    case undefined:
      return { stop_reason: null, stop_sequence: null };
    default:
      return { stop_reason: "end_turn", stop_sequence: null };
  }
}

/** Anthropic ids start with msg_; the upstream's id is kept after it so the two can be matched in logs. */
export function messageId(chatId: string | undefined): string {
  return `msg_${(chatId ?? "").replace(/^chatcmpl-/, "") || "gateway"}`;
}

/** Tool arguments as an object: Anthropic's `input` is always one, and a model's malformed JSON must not fail the answer. */
function toolInput(argumentsJson: string | undefined): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(argumentsJson || "{}");
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function chatToMessage(completion: ChatCompletion): AnthropicMessage {
  const choice = completion.choices?.[0];
  const content: ResponseBlock[] = [];
  const text = choice?.message?.content;
  if (text) content.push({ type: "text", text });
  for (const call of choice?.message?.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: call.id ?? "",
      name: call.function?.name ?? "",
      input: toolInput(call.function?.arguments),
    });
  }
  return {
    id: messageId(completion.id),
    type: "message",
    role: "assistant",
    model: completion.model ?? "",
    content,
    ...stopOf(choice?.finish_reason ?? "stop", choice?.stop_reason),
    usage: { input_tokens: completion.usage?.prompt_tokens ?? 0, output_tokens: completion.usage?.completion_tokens ?? 0 },
  };
}
