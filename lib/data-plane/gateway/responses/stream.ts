// Chat completion chunks told as the Responses API's event stream: response.created and
// .in_progress, then per output item .output_item.added, its content or argument deltas and
// .done events, and finally response.completed (or .incomplete), each numbered in sequence and
// sent with its `event:` line as OpenAI does. Chat has no item boundaries, so items open at their
// first delta and close when a tool call begins (the message) or when the stream ends.
import type { ChatAnswer, ChatToolCall } from "../chat-answer";
import type { ChatCompletionChunk, StreamEncoder } from "../presentation";
import {
  endingOf,
  newItemId,
  outputText,
  responseObject,
  responseUsage,
  type FunctionCallItem,
  type MessageItem,
  type OutputText,
  type Refusal,
  type ResponseContext,
  type ResponseState,
} from "./translate-response";

type PartKind = "output_text" | "refusal";

/** One event of a Responses stream, with its `event:` line as OpenAI sends it. */
function responsesEvent(type: string, sequence: number, fields: Record<string, unknown>): string {
  const data = JSON.stringify({ type, sequence_number: sequence, ...fields });
  return `event: ${type}\ndata: ${data}\n\n`;
}

/** The `error` event that tells a failure once headers are out. */
export const streamErrorEvent = (sequence: number, message: string) =>
  responsesEvent("error", sequence, { code: "stream_interrupted", message, param: null });

interface OpenMessage {
  outputIndex: number;
  item: MessageItem;
  /** The part being streamed (the last of item.content once closed) and its text so far. */
  part: { kind: PartKind; index: number; text: string } | null;
}

interface OpenCall {
  outputIndex: number;
  item: FunctionCallItem;
}

export class ResponsesStreamEncoder implements StreamEncoder {
  private sequence = 0;
  private started = false;
  private readonly state: ResponseState = { createdAt: Math.floor(Date.now() / 1000), status: "in_progress", output: [] };
  private message: OpenMessage | null = null;
  /** Open function calls by the chat tool call's index. */
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: string | null = null;

  constructor(private readonly context: ResponseContext) {}

  chunk(chunk: ChatCompletionChunk): string {
    let out = this.start(chunk);
    const answer = chunk as ChatAnswer;
    if (answer.usage) this.state.usage = responseUsage(answer.usage);
    const choice = answer.choices?.[0];
    if (!choice) return out;
    const delta = choice.delta;
    if (delta?.content) out += this.text("output_text", delta.content);
    if (delta?.refusal) out += this.text("refusal", delta.refusal);
    for (const call of delta?.tool_calls ?? []) out += this.toolCall(call);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  end(): string {
    let out = this.start({});
    out += this.closeMessage();
    for (const call of this.calls.values()) out += this.closeCall(call);
    this.calls.clear();
    Object.assign(this.state, endingOf(this.finishReason));
    const type = this.state.status === "incomplete" ? "response.incomplete" : "response.completed";
    return out + this.event(type, { response: this.response() });
  }

  error(message: string): string {
    return streamErrorEvent(this.sequence++, message);
  }

  private response() {
    return responseObject(this.context, this.state);
  }

  private event(type: string, fields: Record<string, unknown>): string {
    return responsesEvent(type, this.sequence++, fields);
  }

  private start(chunk: ChatCompletionChunk): string {
    if (this.started) return "";
    this.started = true;
    if (typeof chunk.created === "number") this.state.createdAt = chunk.created;
    return (
      this.event("response.created", { response: this.response() }) +
      this.event("response.in_progress", { response: this.response() })
    );
  }

  private text(kind: PartKind, delta: string): string {
    let out = "";
    if (!this.message) {
      const item: MessageItem = { type: "message", id: newItemId("msg"), status: "in_progress", role: "assistant", content: [] };
      this.message = { outputIndex: this.state.output.length, item, part: null };
      this.state.output.push(item);
      out += this.event("response.output_item.added", { output_index: this.message.outputIndex, item: { ...item, content: [] } });
    }
    const message = this.message;
    if (message.part?.kind !== kind) {
      out += this.closePart(message);
      message.part = { kind, index: message.item.content.length, text: "" };
      out += this.event("response.content_part.added", { ...this.partAddress(message), part: partOf(kind, "") });
    }
    message.part.text += delta;
    const type = kind === "output_text" ? "response.output_text.delta" : "response.refusal.delta";
    return out + this.event(type, { ...this.partAddress(message), delta, ...(kind === "output_text" ? { logprobs: [] } : {}) });
  }

  private toolCall(call: ChatToolCall): string {
    let out = "";
    const index = call.index ?? 0;
    let open = this.calls.get(index);
    if (!open) {
      out += this.closeMessage();
      const item: FunctionCallItem = {
        type: "function_call",
        id: newItemId("fc"),
        call_id: call.id ?? newItemId("fc"),
        name: call.function?.name ?? "",
        arguments: "",
        status: "in_progress",
      };
      open = { outputIndex: this.state.output.length, item };
      this.calls.set(index, open);
      this.state.output.push(item);
      out += this.event("response.output_item.added", { output_index: open.outputIndex, item: { ...item } });
    }
    const piece = call.function?.arguments;
    if (!piece) return out;
    open.item.arguments += piece;
    return (
      out +
      this.event("response.function_call_arguments.delta", {
        item_id: open.item.id,
        output_index: open.outputIndex,
        delta: piece,
      })
    );
  }

  private partAddress(message: OpenMessage) {
    return { item_id: message.item.id, output_index: message.outputIndex, content_index: message.part?.index ?? 0 };
  }

  private closePart(message: OpenMessage): string {
    const open = message.part;
    if (!open) return "";
    const part = partOf(open.kind, open.text);
    message.item.content.push(part);
    const done =
      open.kind === "output_text"
        ? this.event("response.output_text.done", { ...this.partAddress(message), text: open.text, logprobs: [] })
        : this.event("response.refusal.done", { ...this.partAddress(message), refusal: open.text });
    return done + this.event("response.content_part.done", { ...this.partAddress(message), part });
  }

  private closeMessage(): string {
    const message = this.message;
    if (!message) return "";
    this.message = null;
    const parts = this.closePart(message);
    message.item.status = this.finishReason === "length" || this.finishReason === "content_filter" ? "incomplete" : "completed";
    return parts + this.event("response.output_item.done", { output_index: message.outputIndex, item: message.item });
  }

  private closeCall({ outputIndex, item }: OpenCall): string {
    item.status = "completed";
    return (
      this.event("response.function_call_arguments.done", {
        item_id: item.id,
        output_index: outputIndex,
        name: item.name,
        arguments: item.arguments,
      }) + this.event("response.output_item.done", { output_index: outputIndex, item })
    );
  }
}

function partOf(kind: PartKind, text: string): OutputText | Refusal {
  return kind === "output_text" ? outputText(text) : { type: "refusal", refusal: text };
}
