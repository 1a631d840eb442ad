// The pure translations between Anthropic's Messages API and chat completions, both directions:
// the gateway's /v1/messages (Messages → chat → Messages) and the anthropic provider kind
// (chat → Messages → chat).
import { describe, expect, it } from "vitest";
import { estimateInputTokens, IMAGE_TOKENS } from "../../lib/data-plane/gateway/anthropic/count-tokens";
import { chatToMessage, stopOf } from "../../lib/data-plane/gateway/anthropic/from-chat";
import { messagesRequest } from "../../lib/data-plane/gateway/anthropic/schema";
import { MessagesStreamEncoder } from "../../lib/data-plane/gateway/anthropic/stream";
import { messagesToChat } from "../../lib/data-plane/gateway/anthropic/to-chat";
import { ChatChunksFromMessages, messageToChat } from "../../lib/data-plane/providers/anthropic/to-chat";
import { chatToMessagesRequest, DEFAULT_MAX_TOKENS } from "../../lib/data-plane/providers/anthropic/to-messages";
import { chatCompletionRequest } from "../../lib/data-plane/gateway/schema";
import { UpstreamFailure } from "../../lib/data-plane/providers/types";

const messages = (body: unknown) => messagesRequest.parse(body);
const chat = (body: unknown) => chatCompletionRequest.parse(body);

function parseEvents(sse: string): Array<{ event: string; data: Record<string, any> }> {
  return sse
    .split("\n\n")
    .filter(Boolean)
    .map((frame) => {
      const [event, data] = frame.split("\n");
      return { event: event!.slice("event: ".length), data: JSON.parse(data!.slice("data: ".length)) };
    });
}

describe("Messages request → chat request", () => {
  it("maps system blocks, tool use, tool results (first), images, and the sampling fields", () => {
    const request = messages({
      model: "m",
      max_tokens: 50,
      system: [
        { type: "text", text: "A" },
        { type: "text", text: "B" },
      ],
      stop_sequences: ["END"],
      temperature: 0.3,
      top_p: 0.9,
      top_k: 5,
      metadata: { user_id: "u1" },
      tools: [{ name: "t", input_schema: { type: "object" } }],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      messages: [
        { role: "user", content: "q" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "hmm", signature: "s" },
            { type: "tool_use", id: "toolu_1", name: "t", input: { a: 1 } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "tool_result", tool_use_id: "toolu_1", content: "bad", is_error: true },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "AAAA" } },
          ],
        },
      ],
    });
    expect(messagesToChat(request)).toEqual({
      model: "m",
      max_tokens: 50,
      stop: ["END"],
      temperature: 0.3,
      top_p: 0.9,
      user: "u1",
      tools: [{ type: "function", function: { name: "t", parameters: { type: "object" } } }],
      tool_choice: "required",
      parallel_tool_calls: false,
      messages: [
        { role: "system", content: "A\n\nB" },
        { role: "user", content: "q" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "toolu_1", type: "function", function: { name: "t", arguments: '{"a":1}' } }],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "Error: bad" },
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
          ],
        },
      ],
    });
  });

  it("maps every tool_choice and asks for usage on streams", () => {
    const base = {
      model: "m",
      max_tokens: 5,
      messages: [{ role: "user", content: "x" }],
      tools: [{ name: "t", input_schema: { type: "object" } }],
    };
    expect(messagesToChat(messages({ ...base, tool_choice: { type: "auto" } })).tool_choice).toBe("auto");
    expect(messagesToChat(messages({ ...base, tool_choice: { type: "none" } })).tool_choice).toBe("none");
    expect(messagesToChat(messages({ ...base, tool_choice: { type: "tool", name: "t" } })).tool_choice).toEqual({
      type: "function",
      function: { name: "t" },
    });
    expect(messagesToChat(messages({ ...base, stream: true }))).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });
});

describe("chat completion → Message", () => {
  it("tells text and tool calls as blocks, usage as input/output tokens", () => {
    const message = chatToMessage({
      id: "chatcmpl-abc",
      model: "m",
      choices: [
        {
          message: { content: "hi", tool_calls: [{ id: "call_1", function: { name: "t", arguments: '{"x":2}' } }] },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 3 },
    });
    expect(message).toEqual({
      id: "msg_abc",
      type: "message",
      role: "assistant",
      model: "m",
      content: [
        { type: "text", text: "hi" },
        { type: "tool_use", id: "call_1", name: "t", input: { x: 2 } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 7, output_tokens: 3 },
    });
  });

  it("maps finish reasons, naming the stop sequence when the upstream tells it", () => {
    expect(stopOf("stop", undefined)).toEqual({ stop_reason: "end_turn", stop_sequence: null });
    expect(stopOf("stop", "END")).toEqual({ stop_reason: "stop_sequence", stop_sequence: "END" });
    expect(stopOf("length", undefined)).toEqual({ stop_reason: "max_tokens", stop_sequence: null });
    expect(stopOf("tool_calls", undefined)).toEqual({ stop_reason: "tool_use", stop_sequence: null });
    expect(stopOf("content_filter", undefined)).toEqual({ stop_reason: "refusal", stop_sequence: null });
  });

  it("keeps a tool call with malformed arguments, as an empty input", () => {
    const message = chatToMessage({
      choices: [
        { message: { tool_calls: [{ id: "c", function: { name: "t", arguments: "{oops" } }] }, finish_reason: "tool_calls" },
      ],
    });
    expect(message.content).toEqual([{ type: "tool_use", id: "c", name: "t", input: {} }]);
  });
});

describe("chat chunks → Messages stream", () => {
  it("opens, fills and closes a block per text run and per tool call; message_delta waits for the usage", () => {
    const encoder = new MessagesStreamEncoder();
    const chunk = (delta: object, finish: string | null = null) => ({
      id: "chatcmpl-1",
      model: "m",
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const sse = [
      encoder.chunk(chunk({ role: "assistant", content: "" })),
      encoder.chunk(chunk({ content: "Hel" })),
      encoder.chunk(chunk({ content: "lo" })),
      encoder.chunk(
        chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "t", arguments: "" } }] }),
      ),
      encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] })),
      encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] })),
      encoder.chunk(chunk({}, "tool_calls")),
      encoder.chunk({ id: "chatcmpl-1", model: "m", choices: [], usage: { prompt_tokens: 4, completion_tokens: 6 } }),
      encoder.end(),
    ].join("");
    const events = parseEvents(sse);
    expect(events.every(({ event, data }) => event === data.type)).toBe(true);
    expect(events.map(({ data }) => data)).toEqual([
      {
        type: "message_start",
        message: {
          id: "msg_1",
          type: "message",
          role: "assistant",
          model: "m",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "call_1", name: "t", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"a":' } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "1}" } },
      { type: "content_block_stop", index: 1 },
      {
        type: "message_delta",
        delta: { stop_reason: "tool_use", stop_sequence: null },
        usage: { input_tokens: 4, output_tokens: 6 },
      },
      { type: "message_stop" },
    ]);
  });

  it("tells a failure as Anthropic's error event", () => {
    expect(parseEvents(new MessagesStreamEncoder().error("upstream went away"))).toEqual([
      { event: "error", data: { type: "error", error: { type: "api_error", message: "upstream went away" } } },
    ]);
  });
});

describe("count_tokens estimate", () => {
  it("counts system, every block and every tool with one estimator; images at a flat rate", () => {
    const request = messages({
      model: "m",
      max_tokens: 1,
      system: "abcd",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "efgh" },
            { type: "image", source: { type: "url", url: "https://x/y.png" } },
          ],
        },
      ],
    });
    // "abcd\nefgh": 9 characters, four a token.
    expect(estimateInputTokens(request)).toBe(3 + IMAGE_TOKENS);
  });
});

describe("chat request → Messages request (anthropic provider)", () => {
  it("gathers system prompts, merges consecutive turns, and maps tools, stops and limits", () => {
    const body = chatToMessagesRequest(
      chat({
        model: "claude",
        messages: [
          { role: "system", content: "S1" },
          { role: "developer", content: [{ type: "text", text: "S2" }] },
          {
            role: "user",
            content: [
              { type: "text", text: "hi" },
              { type: "image_url", image_url: { url: "data:image/jpeg;base64,QUJD" } },
            ],
          },
          {
            role: "assistant",
            content: "",
            tool_calls: [{ id: "c1", type: "function", function: { name: "t", arguments: '{"q":1}' } }],
          },
          { role: "tool", tool_call_id: "c1", content: "R" },
          { role: "user", content: "next" },
        ],
        stop: "STOP",
        temperature: 1.8,
        max_completion_tokens: 99,
        tools: [{ type: "function", function: { name: "t" } }],
        tool_choice: "required",
        parallel_tool_calls: false,
        stream: true,
      }),
    );
    expect(body).toEqual({
      model: "claude",
      max_tokens: 99,
      system: "S1\n\nS2",
      stop_sequences: ["STOP"],
      temperature: 1,
      tools: [{ name: "t", input_schema: { type: "object", properties: {} } }],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      stream: true,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "hi" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "QUJD" } },
          ],
        },
        { role: "assistant", content: [{ type: "tool_use", id: "c1", name: "t", input: { q: 1 } }] },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "c1", content: "R" },
            { type: "text", text: "next" },
          ],
        },
      ],
    });
  });

  it("sets max_tokens when the chat request has none, and refuses what Messages cannot say as a 400", () => {
    expect(chatToMessagesRequest(chat({ model: "c", messages: [{ role: "user", content: "x" }] })).max_tokens).toBe(
      DEFAULT_MAX_TOKENS,
    );
    const refusal = (body: unknown) => {
      try {
        chatToMessagesRequest(chat(body));
      } catch (error) {
        return error;
      }
      throw new Error("not refused");
    };
    for (const body of [
      { model: "c", n: 2, messages: [{ role: "user", content: "x" }] },
      { model: "c", messages: [{ role: "user", content: [{ type: "input_audio", input_audio: {} }] }] },
      { model: "c", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://x" } }] }] },
      {
        model: "c",
        messages: [
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "a", type: "function", function: { name: "t", arguments: "[1]" } }],
          },
        ],
      },
    ]) {
      const error = refusal(body);
      expect(error).toBeInstanceOf(UpstreamFailure);
      expect(error).toMatchObject({ reason: "client_error", status: 400 });
    }
  });
});

describe("Message → chat (anthropic provider)", () => {
  it("joins text, maps tool_use to tool_calls and counts cached input in prompt_tokens", () => {
    const completion = messageToChat({
      id: "msg_1",
      model: "claude",
      content: [
        { type: "text", text: "a" },
        { type: "tool_use", id: "toolu_1", name: "t", input: { k: "v" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 3, cache_read_input_tokens: 10, output_tokens: 2 },
    });
    expect(completion).toMatchObject({
      id: "msg_1",
      object: "chat.completion",
      model: "claude",
      choices: [
        {
          index: 0,
          message: {
            role: "assistant",
            content: "a",
            tool_calls: [{ id: "toolu_1", type: "function", function: { name: "t", arguments: '{"k":"v"}' } }],
          },
          finish_reason: "tool_calls",
        },
      ],
      usage: { prompt_tokens: 13, completion_tokens: 2, total_tokens: 15 },
    });
  });

  it("names the stop sequence on the choice (vLLM's stop_reason)", () => {
    const completion = messageToChat({
      content: [{ type: "text", text: "x" }],
      stop_reason: "stop_sequence",
      stop_sequence: "END",
    }) as { choices: Array<Record<string, unknown>> };
    expect(completion.choices[0]).toMatchObject({ finish_reason: "stop", stop_reason: "END" });
  });

  it("turns a Messages stream into chat chunks, [DONE] after message_stop, and an error event into a failure", () => {
    const chunks = new ChatChunksFromMessages(true);
    const out = [
      { type: "message_start", message: { id: "msg_1", model: "claude", usage: { input_tokens: 5, output_tokens: 1 } } },
      { type: "ping" },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
      { type: "content_block_stop", index: 0 },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "t", input: {} } },
      { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: "{}" } },
      { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 4 } },
      { type: "message_stop" },
    ].flatMap((event) => chunks.next(event));
    expect(out.at(-1)).toBe("[DONE]");
    const parsed = out.slice(0, -1).map((text) => JSON.parse(text));
    expect(parsed.map((chunk) => chunk.choices[0]?.delta ?? null)).toEqual([
      { role: "assistant", content: "" },
      { content: "Hi" },
      { tool_calls: [{ index: 0, id: "toolu_1", type: "function", function: { name: "t", arguments: "" } }] },
      { tool_calls: [{ index: 0, function: { arguments: "{}" } }] },
      {},
      null,
    ]);
    expect(parsed[4].choices[0].finish_reason).toBe("tool_calls");
    expect(parsed[5].usage).toEqual({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
    expect(() => chunks.next({ type: "error", error: { type: "overloaded_error", message: "busy" } })).toThrow(UpstreamFailure);
  });
});
