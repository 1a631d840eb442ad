// A chat completion stream told as Anthropic's Messages stream: message_start, then per content
// block content_block_start / content_block_delta (text_delta, input_json_delta) /
// content_block_stop, then message_delta (stop_reason, usage) and message_stop, each with the
// `event:` line Anthropic's SDKs dispatch on. The usage arrives in the chat stream's last chunk,
// so message_delta waits for the end of the stream.
import type { ChatCompletionChunk, StreamEncoder } from "../presentation";
import { messageId, stopOf, type Stop } from "./from-chat";

interface ChunkToolCall {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

interface ChunkChoice {
  index?: number;
  delta?: { content?: string | null; tool_calls?: ChunkToolCall[] | null };
  finish_reason?: string | null;
  stop_reason?: unknown;
}

type OpenBlock = { kind: "text" } | { kind: "tool"; callIndex: number };

function sseEvent(type: string, data: object): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class MessagesStreamEncoder implements StreamEncoder {
  private started = false;
  private block: OpenBlock | null = null;
  private blockIndex = -1;
  private stop: Stop = { stop_reason: null, stop_sequence: null };
  private usage = { input_tokens: 0, output_tokens: 0 };

  chunk(chunk: ChatCompletionChunk): string {
    let out = this.start(chunk);
    if (chunk.usage) {
      this.usage = { input_tokens: chunk.usage.prompt_tokens ?? 0, output_tokens: chunk.usage.completion_tokens ?? 0 };
    }
    // Messages have one answer: other choices (n > 1 is never asked for) are not told.
    const choice = (chunk.choices as ChunkChoice[] | undefined)?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return out;
    const { delta } = choice;
    if (delta?.content) {
      if (this.block?.kind !== "text") out += this.open({ kind: "text" }, { type: "text", text: "" });
      out += sseEvent("content_block_delta", {
        type: "content_block_delta",
        index: this.blockIndex,
        delta: { type: "text_delta", text: delta.content },
      });
    }
    for (const call of delta?.tool_calls ?? []) {
      const callIndex = call.index ?? 0;
      if (this.block?.kind !== "tool" || this.block.callIndex !== callIndex || call.id) {
        out += this.open(
          { kind: "tool", callIndex },
          { type: "tool_use", id: call.id ?? "", name: call.function?.name ?? "", input: {} },
        );
      }
      const partial = call.function?.arguments;
      if (partial) {
        out += sseEvent("content_block_delta", {
          type: "content_block_delta",
          index: this.blockIndex,
          delta: { type: "input_json_delta", partial_json: partial },
        });
      }
    }
    if (choice.finish_reason) this.stop = stopOf(choice.finish_reason, choice.stop_reason);
    return out;
  }

  end(): string {
    return (
      this.start({}) +
      this.close() +
      sseEvent("message_delta", { type: "message_delta", delta: this.stop, usage: this.usage }) +
      sseEvent("message_stop", { type: "message_stop" })
    );
  }

  error(message: string): string {
    return sseEvent("error", { type: "error", error: { type: "api_error", message } });
  }

  private start(chunk: ChatCompletionChunk): string {
    if (this.started) return "";
    this.started = true;
    const message = {
      id: messageId(typeof chunk.id === "string" ? chunk.id : undefined),
      type: "message",
      role: "assistant",
      model: chunk.model ?? "",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // Counted by the upstream at the end; message_delta carries the figures.
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return sseEvent("message_start", { type: "message_start", message });
  }

  private open(block: OpenBlock, contentBlock: object): string {
    const out = this.close();
    this.block = block;
    this.blockIndex += 1;
    return (
      out + sseEvent("content_block_start", { type: "content_block_start", index: this.blockIndex, content_block: contentBlock })
    );
  }

  private close(): string {
    if (!this.block) return "";
    this.block = null;
    return sseEvent("content_block_stop", { type: "content_block_stop", index: this.blockIndex });
  }
}
