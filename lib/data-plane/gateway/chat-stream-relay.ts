// Reads an upstream's chat-completion stream (chunks, then `[DONE]`) and hands each chunk, its
// model set to the public name, to the endpoint's encoder: as it is for chat completions,
// translated for the other APIs.
import { UpstreamFailure } from "../providers/types";
import type { ChatCompletionChunk, StreamEncoder, StreamEnding, StreamObserver, StreamRelay } from "./presentation";

const COMPLETE: StreamEnding = { ok: true };

export class ChatStreamRelay implements StreamRelay {
  ending: StreamEnding | undefined;
  readonly unfinished = "upstream stream ended without [DONE]";
  private sawFirstToken = false;

  /**
   * `hideUsage`: the gateway asked the upstream for usage (stream_options.include_usage) for its own
   * accounting, the client did not: usage is read, then removed from chunks, and the usage-only last chunk is not sent.
   */
  constructor(
    private readonly encoder: StreamEncoder,
    private readonly model: string,
    private readonly observer: StreamObserver,
    private readonly hideUsage = false,
  ) {}

  next(data: string): string {
    if (data === "[DONE]") {
      this.ending = COMPLETE;
      return this.encoder.end();
    }
    let chunk: ChatCompletionChunk;
    try {
      chunk = JSON.parse(data) as ChatCompletionChunk;
    } catch {
      throw new UpstreamFailure("protocol", "upstream sent a stream event that is not JSON");
    }
    if (!this.sawFirstToken && chunk.choices?.some((c) => c.delta?.content || c.delta?.tool_calls)) {
      this.sawFirstToken = true;
      this.observer.firstToken();
    }
    if (chunk.usage) this.observer.usage(chunk.usage);
    if (this.hideUsage && "usage" in chunk) {
      if (chunk.usage && !chunk.choices?.length) return "";
      delete chunk.usage;
    }
    chunk.model = this.model;
    return this.encoder.chunk(chunk);
  }

  error(message: string): string {
    return this.encoder.error(message);
  }
}
