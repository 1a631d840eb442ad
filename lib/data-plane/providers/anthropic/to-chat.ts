// An Anthropic Message, or its stream of events, as a chat completion or chat chunks, for the
// `anthropic` provider kind. Pure. A stop sequence that ended the answer is told as the choice's
// `stop_reason` (vLLM's convention), so Messages clients of the gateway still learn which one.
import { UpstreamFailure } from "../types";

interface MessageBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

interface MessageUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export interface UpstreamMessage {
  id?: string;
  model?: string;
  content?: MessageBlock[];
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: MessageUsage;
}

function finishReason(stopReason: string | null | undefined): string | null {
  switch (stopReason) {
    case "end_turn":
    case "stop_sequence":
    case "pause_turn":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    case null:
    case undefined:
      return null;
    default:
      return "stop";
  }
}

/** Anthropic counts cached input apart from input_tokens; the chat API's prompt_tokens holds all of it. */
function promptTokens(usage: MessageUsage | undefined): number {
  return (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0) + (usage?.cache_read_input_tokens ?? 0);
}

function chatUsage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

const now = () => Math.floor(Date.now() / 1000);

export function messageToChat(message: UpstreamMessage): Record<string, unknown> {
  const blocks = message.content ?? [];
  const text = blocks.flatMap((block) => (block.type === "text" ? [block.text ?? ""] : [])).join("");
  const toolCalls = blocks.flatMap((block) =>
    block.type === "tool_use"
      ? [
          {
            id: block.id ?? "",
            type: "function",
            function: { name: block.name ?? "", arguments: JSON.stringify(block.input ?? {}) },
          },
        ]
      : [],
  );
  return {
    id: message.id ?? "",
    object: "chat.completion",
    created: now(),
    model: message.model ?? "",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text || (toolCalls.length ? null : ""),
          refusal: null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
        ...(message.stop_sequence ? { stop_reason: message.stop_sequence } : {}),
      },
    ],
    usage: chatUsage(promptTokens(message.usage), message.usage?.output_tokens ?? 0),
  };
}

interface StreamEvent {
  type: string;
  message?: UpstreamMessage;
  index?: number;
  content_block?: MessageBlock;
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null; stop_sequence?: string | null };
  usage?: MessageUsage;
  error?: { type?: string; message?: string };
}

/** Turns one Messages stream's events into chat chunks (JSON text), "[DONE]" after message_stop. */
export class ChatChunksFromMessages {
  private id = "";
  private model = "";
  private readonly created = now();
  private inputTokens = 0;
  private outputTokens = 0;
  /** Content block index → the chat tool_calls index it became. */
  private readonly toolCallAt = new Map<number, number>();

  constructor(private readonly includeUsage: boolean) {}

  /** The chat chunks for one event (often none). */
  next(event: StreamEvent): string[] {
    switch (event.type) {
      case "message_start":
        this.id = event.message?.id ?? "";
        this.model = event.message?.model ?? "";
        this.inputTokens = promptTokens(event.message?.usage);
        this.outputTokens = event.message?.usage?.output_tokens ?? 0;
        return [this.chunk({ role: "assistant", content: "" })];
      case "content_block_start": {
        const block = event.content_block;
        if (block?.type === "text" && block.text) return [this.chunk({ content: block.text })];
        if (block?.type !== "tool_use") return [];
        const callIndex = this.toolCallAt.size;
        this.toolCallAt.set(event.index ?? 0, callIndex);
        return [
          this.chunk({
            tool_calls: [
              { index: callIndex, id: block.id ?? "", type: "function", function: { name: block.name ?? "", arguments: "" } },
            ],
          }),
        ];
      }
      case "content_block_delta": {
        const delta = event.delta;
        if (delta?.type === "text_delta" && delta.text) return [this.chunk({ content: delta.text })];
        const callIndex = this.toolCallAt.get(event.index ?? 0);
        if (delta?.type === "input_json_delta" && delta.partial_json && callIndex !== undefined) {
          return [this.chunk({ tool_calls: [{ index: callIndex, function: { arguments: delta.partial_json } }] })];
        }
        return [];
      }
      case "message_delta": {
        // Cumulative figures: the latest one wins.
        if (event.usage?.output_tokens != null) this.outputTokens = event.usage.output_tokens;
        if (event.usage?.input_tokens != null) this.inputTokens = promptTokens(event.usage);
        const stopSequence = event.delta?.stop_sequence;
        return [
          this.chunk({}, finishReason(event.delta?.stop_reason) ?? "stop", stopSequence ? { stop_reason: stopSequence } : {}),
        ];
      }
      case "message_stop":
        return this.includeUsage
          ? [
              JSON.stringify({
                id: this.id,
                object: "chat.completion.chunk",
                created: this.created,
                model: this.model,
                choices: [],
                usage: chatUsage(this.inputTokens, this.outputTokens),
              }),
              "[DONE]",
            ]
          : ["[DONE]"];
      case "error":
        throw new UpstreamFailure(
          "server_error",
          `upstream stream failed: ${event.error?.type ?? "error"}${event.error?.message ? `: ${event.error.message}` : ""}`,
        );
      default:
        // ping, content_block_stop, thinking and citation deltas: nothing a chat client is told.
        return [];
    }
  }

  private chunk(delta: object, finish: string | null = null, extra: object = {}): string {
    return JSON.stringify({
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra }],
    });
  }
}
