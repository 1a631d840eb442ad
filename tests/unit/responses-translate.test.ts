// The Responses API's translation to chat and back, as pure functions; the stream's events are
// folded with the official openai SDK's own accumulator, so the sequence is one it accepts.
import { accumulateResponse } from "openai/lib/responses/ResponseAccumulator";
import type { Response as OpenAIResponse, ResponseStreamEvent } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import type { ChatCompletionChunk } from "../../lib/data-plane/gateway/presentation";
import { responsesEndpoint } from "../../lib/data-plane/gateway/responses/endpoint";
import { parseRequestBody } from "../../lib/data-plane/gateway/schema";
import { responsesRequest } from "../../lib/data-plane/gateway/responses/schema";
import { ResponsesStreamEncoder } from "../../lib/data-plane/gateway/responses/stream";
import { toChatRequest } from "../../lib/data-plane/gateway/responses/translate-request";
import type { ChatAnswer } from "../../lib/data-plane/gateway/chat-answer";
import { completionToResponse } from "../../lib/data-plane/gateway/responses/translate-response";

const parse = (body: Record<string, unknown>) => parseRequestBody(responsesRequest, { model: "m", ...body });
const translate = (body: Record<string, unknown>) => toChatRequest(parse(body));

describe("Responses request → chat request", () => {
  it("turns a string input into one user message and instructions into the system message", () => {
    expect(translate({ input: "hello", instructions: "be brief" }).messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: "hello" },
    ]);
  });

  it("translates message items, function calls joining their assistant turn, and their outputs", () => {
    const chat = translate({
      input: [
        { role: "developer", content: "rules" },
        {
          type: "message",
          role: "user",
          content: [
            { type: "input_text", text: "weather?" },
            { type: "input_image", image_url: "data:image/png;base64,AA", detail: "low" },
          ],
        },
        {
          type: "message",
          role: "assistant",
          id: "msg_1",
          status: "completed",
          content: [{ type: "output_text", text: "Checking.", annotations: [] }],
        },
        { type: "function_call", id: "fc_1", call_id: "call_a", name: "weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call", call_id: "call_b", name: "weather", arguments: '{"city":"Rome"}' },
        { type: "function_call_output", call_id: "call_a", output: "rain" },
        { type: "function_call_output", call_id: "call_b", output: [{ type: "input_text", text: "sun" }] },
        { type: "function_call", call_id: "call_c", name: "time", arguments: "{}" },
      ],
    });
    expect(chat.messages).toEqual([
      { role: "developer", content: "rules" },
      {
        role: "user",
        content: [
          { type: "text", text: "weather?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AA", detail: "low" } },
        ],
      },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
          { id: "call_b", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: "rain" },
      { role: "tool", tool_call_id: "call_b", content: "sun" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_c", type: "function", function: { name: "time", arguments: "{}" } }],
      },
    ]);
  });

  it("translates tools, tool_choice, text.format and the sampling settings; drops what chat does not know", () => {
    const chat = translate({
      input: "x",
      tools: [
        { type: "function", name: "lookup", description: "finds", parameters: { type: "object", properties: {} }, strict: true },
      ],
      tool_choice: { type: "function", name: "lookup" },
      text: { format: { type: "json_schema", name: "answer", schema: { type: "object" }, strict: true } },
      max_output_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      parallel_tool_calls: false,
      metadata: { trace: "t1" },
      store: true,
      include: ["reasoning.encrypted_content"],
      truncation: "auto",
      user: "u1",
    });
    expect(chat).toEqual({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      tools: [
        {
          type: "function",
          function: { name: "lookup", description: "finds", parameters: { type: "object", properties: {} }, strict: true },
        },
      ],
      tool_choice: { type: "function", function: { name: "lookup" } },
      response_format: { type: "json_schema", json_schema: { name: "answer", schema: { type: "object" }, strict: true } },
      max_completion_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      parallel_tool_calls: false,
      user: "u1",
    });
    expect(translate({ input: "json please", text: { format: { type: "json_object" } } }).response_format).toEqual({
      type: "json_object",
    });
    expect(translate({ input: "x", text: { format: { type: "text" } } }).response_format).toBeUndefined();
    expect(translate({ input: "x", tool_choice: "required", tools: [{ type: "function", name: "f" }] }).tool_choice).toBe(
      "required",
    );
  });

  it("asks for usage on streams, since response.completed carries it", () => {
    expect(translate({ input: "x", stream: true })).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(translate({ input: "x", stream: false })).not.toHaveProperty("stream");
  });

  it("refuses what needs stored state, naming the parameter", () => {
    const refused = (body: Record<string, unknown>, error: Record<string, unknown>) =>
      expect(() => translate(body)).toThrow(expect.objectContaining({ status: 400, ...error }));
    refused({ input: "x", previous_response_id: "resp_1" }, { param: "previous_response_id", code: "unsupported_parameter" });
    refused({ input: "x", conversation: "conv_1" }, { param: "conversation", code: "unsupported_parameter" });
    refused({ input: "x", background: true }, { param: "background" });
    refused(
      { input: [{ type: "item_reference", id: "msg_1" }] },
      { param: "input[0].type", message: expect.stringMatching(/does not store responses/) },
    );
    refused({ input: "x", tools: [{ type: "web_search" }] }, { param: "tools[0].type" });
    refused({ input: [{ role: "user", content: [{ type: "input_audio" }] }] }, { param: "input[0].content[0].type" });
    refused(
      { input: [{ type: "function_call", name: "f", arguments: "{}" }] },
      { param: "input[0].call_id", code: "missing_required_parameter" },
    );
  });
});

const context = () => ({
  id: "resp_test",
  request: parse({ input: "x", instructions: "be brief", metadata: { a: "b" }, max_output_tokens: 5 }),
});

describe("chat completion → response object", () => {
  it("builds a completed response with a message item, output_text and usage details", () => {
    const completion: ChatAnswer = {
      created: 1_700_000_000,
      choices: [{ message: { content: "hello there" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 1 } },
    };
    const response: OpenAIResponse = completionToResponse(context(), completion);
    expect(response).toMatchObject({
      id: "resp_test",
      object: "response",
      created_at: 1_700_000_000,
      status: "completed",
      model: "m",
      instructions: "be brief",
      metadata: { a: "b" },
      max_output_tokens: 5,
      incomplete_details: null,
      error: null,
      output_text: "hello there",
      usage: {
        input_tokens: 3,
        input_tokens_details: { cached_tokens: 1 },
        output_tokens: 2,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 5,
      },
    });
    expect(response.output).toEqual([
      {
        type: "message",
        id: expect.stringMatching(/^msg_[0-9a-f]{48}$/),
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "hello there", annotations: [], logprobs: [] }],
      },
    ]);
  });

  it("turns tool calls into function_call items keeping their call ids", () => {
    const response = completionToResponse(context(), {
      choices: [
        {
          message: {
            content: null,
            tool_calls: [
              { id: "call_1", function: { name: "f", arguments: '{"a":1}' } },
              { id: "call_2", function: { name: "g", arguments: "{}" } },
            ],
          },
          finish_reason: "tool_calls",
        },
      ],
    });
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe("");
    expect(response.output).toEqual([
      {
        type: "function_call",
        id: expect.stringMatching(/^fc_/),
        call_id: "call_1",
        name: "f",
        arguments: '{"a":1}',
        status: "completed",
      },
      {
        type: "function_call",
        id: expect.stringMatching(/^fc_/),
        call_id: "call_2",
        name: "g",
        arguments: "{}",
        status: "completed",
      },
    ]);
  });

  it("reports a completion cut by the token limit as incomplete (max_output_tokens)", () => {
    const response = completionToResponse(context(), { choices: [{ message: { content: "one two" }, finish_reason: "length" }] });
    expect(response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    expect(response.output[0]).toMatchObject({ status: "incomplete" });
  });
});

// The chunks a chat upstream streams for the given deltas: role first, finish, then usage.
function chatChunks(
  deltas: Array<Record<string, unknown>>,
  finish: string,
  usage = { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
): ChatCompletionChunk[] {
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null): ChatCompletionChunk => ({
    created: 1_700_000_001,
    model: "m",
    choices: [{ index: 0, delta, finish_reason } as never],
    usage: null,
  });
  return [
    chunk({ role: "assistant", content: "" }),
    ...deltas.map((delta) => chunk(delta)),
    chunk({}, finish),
    { created: 1_700_000_001, model: "m", choices: [], usage },
  ];
}

function encode(chunks: ChatCompletionChunk[]): Array<{ event: string; data: ResponseStreamEvent }> {
  const encoder = new ResponsesStreamEncoder(context());
  const text = chunks.map((chunk) => encoder.chunk(chunk)).join("") + encoder.end();
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((frame) => {
      const [eventLine, dataLine] = frame.split("\n");
      return {
        event: eventLine!.replace(/^event: /, ""),
        data: JSON.parse(dataLine!.replace(/^data: /, "")) as ResponseStreamEvent,
      };
    });
}

function fold(events: Array<{ data: ResponseStreamEvent }>): OpenAIResponse {
  let snapshot: OpenAIResponse | undefined;
  for (const { data } of events) snapshot = accumulateResponse(data, snapshot);
  return snapshot!;
}

describe("chat chunks → Responses event stream", () => {
  it("emits OpenAI's text sequence with event lines, numbered, and usage on response.completed", () => {
    const events = encode(chatChunks([{ content: "hel" }, { content: "lo" }], "stop"));
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.every((e) => e.event === e.data.type)).toBe(true);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, at) => at));
    const done = events.find((e) => e.data.type === "response.output_text.done")!.data;
    expect(done).toMatchObject({ text: "hello", output_index: 0, content_index: 0 });
    const completed = events.at(-1)!.data as Extract<ResponseStreamEvent, { type: "response.completed" }>;
    expect(completed.response).toMatchObject({
      id: "resp_test",
      status: "completed",
      created_at: 1_700_000_001,
      usage: { input_tokens: 4, output_tokens: 3, total_tokens: 7 },
    });
    const folded = fold(events);
    expect(folded.output_text).toBe("hello");
    expect(folded.status).toBe("completed");
  });

  it("streams tool calls as function_call items with argument deltas, closing the text before them", () => {
    const events = encode(
      chatChunks(
        [
          { content: "Let me check." },
          { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "weather", arguments: "" } }] },
          { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] },
          { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] },
          { tool_calls: [{ index: 1, id: "call_2", type: "function", function: { name: "time", arguments: "{}" } }] },
        ],
        "tool_calls",
      ),
    );
    expect(events.map((e) => e.event).slice(2)).toEqual([
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const folded = fold(events);
    expect(folded.output).toEqual([
      expect.objectContaining({ type: "message", status: "completed" }),
      {
        type: "function_call",
        id: expect.stringMatching(/^fc_/),
        call_id: "call_1",
        name: "weather",
        arguments: '{"city":"Oslo"}',
        status: "completed",
      },
      {
        type: "function_call",
        id: expect.stringMatching(/^fc_/),
        call_id: "call_2",
        name: "time",
        arguments: "{}",
        status: "completed",
      },
    ]);
    expect(folded.output_text).toBe("Let me check.");
  });

  it("streams a refusal as a refusal part", () => {
    const events = encode(chatChunks([{ refusal: "I can't " }, { refusal: "help with that." }], "stop"));
    expect(events.map((e) => e.event).slice(2, -1)).toEqual([
      "response.output_item.added",
      "response.content_part.added",
      "response.refusal.delta",
      "response.refusal.delta",
      "response.refusal.done",
      "response.content_part.done",
      "response.output_item.done",
    ]);
    expect(fold(events).output).toEqual([
      expect.objectContaining({ type: "message", content: [{ type: "refusal", refusal: "I can't help with that." }] }),
    ]);
  });

  it("ends a stream cut by the token limit with response.incomplete (max_output_tokens)", () => {
    const events = encode(chatChunks([{ content: "one" }], "length"));
    const last = events.at(-1)!;
    expect(last.event).toBe("response.incomplete");
    expect(last.data).toMatchObject({ response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } } });
  });

  it("tells a failure after the headers as an error event", () => {
    const encoder = new ResponsesStreamEncoder(context());
    encoder.chunk(chatChunks([], "stop")[0]!);
    expect(encoder.error("upstream went away")).toMatch(
      /^event: error\ndata: \{"type":"error","sequence_number":2,"code":"stream_interrupted","message":"upstream went away","param":null\}\n\n$/,
    );
  });
});

describe("the responses endpoint", () => {
  it("gives each request its own resp_ id and presents the chat answer as a response", () => {
    const first = responsesEndpoint.parse({ model: "m", input: "hi" });
    const second = responsesEndpoint.parse({ model: "m", input: "hi" });
    // The cache keeps a Responses request's answer with the form it came in (lib/data-plane/gateway/presentation.ts CachedAnswer).
    const translated = (answer: Record<string, unknown>) => JSON.stringify({ form: "translated", answer });
    const body = JSON.parse(
      first.presentation.json(translated({ created: 1, choices: [{ message: { content: "yo" }, finish_reason: "stop" }] })),
    );
    expect(body).toMatchObject({ id: expect.stringMatching(/^resp_[0-9a-f]{48}$/), object: "response", output_text: "yo" });
    const other = JSON.parse(second.presentation.json(translated({ created: 1, choices: [] })));
    expect(other.id).not.toBe(body.id);
  });
});
