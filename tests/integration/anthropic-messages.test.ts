// POST /v1/messages and /v1/messages/count_tokens through the real server, driven by the official,
// unmodified @anthropic-ai/sdk (1.17: key as Authorization: Bearer, anthropic-version 2026-10-21); the upstream is the OpenAI stand-in (tests/helpers/openai-stand-in.ts),
// so every answer crossed the Messages → chat → Messages translation.
import Anthropic, { APIError } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { countTokens, startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let upstream: OpenAIStandIn;
let server: ServerProcess;
let key: string;
const model = unique("claude-via-chat");

// SDK 1.17 sends its apiKey as `Authorization: Bearer`; older SDKs (and curl examples) send x-api-key.
const client = (options: { apiKey?: string | null; headers?: Record<string, string> } = {}) =>
  new Anthropic({
    apiKey: options.apiKey === undefined ? key : options.apiKey,
    defaultHeaders: options.headers,
    baseURL: server.url,
    maxRetries: 0,
    timeout: 20_000,
  });

const weatherTool = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

beforeAll(async () => {
  upstream = await startOpenAIStandIn({ apiKey: "upstream-key", name: "A" });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("chat-upstream"),
    baseUrl: upstream.url,
    apiKey: "upstream-key",
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 } },
    deployments: [{ modelName: model, upstreamModel: "gpt-4o-mini" }],
  });
  key = (await fixture.addKey()).key;
  server = await fixture.startServer();
  await eventually(async () => {
    const response = await fetch(`${server.url}/v1/models/${model}`, { headers: { authorization: `Bearer ${key}` } });
    return response.status === 200;
  });
});

afterAll(async () => {
  await fixture.close();
  await upstream?.close();
});

beforeEach(() => upstream.reset());

describe("messages.create", () => {
  it("answers a text request as a Message, usage and all", async () => {
    const message = await client().messages.create({
      model,
      max_tokens: 100,
      system: [{ type: "text", text: "Be brief." }],
      messages: [{ role: "user", content: "Hello there" }],
      metadata: { user_id: "user-7" },
    });
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model,
      content: [{ type: "text", text: "[A] echo: Hello there" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: countTokens("Be brief.") + countTokens("Hello there"),
        output_tokens: countTokens("[A] echo: Hello there"),
      },
    });
    expect(message.id).toMatch(/^msg_/);
    expect(upstream.requests[0]!.body).toMatchObject({
      model: "gpt-4o-mini",
      max_tokens: 100,
      user: "user-7",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello there" },
      ],
    });
  });

  it("tells max_tokens when the answer was cut at the limit", async () => {
    const message = await client().messages.create({
      model,
      max_tokens: 2,
      messages: [{ role: "user", content: "one two three four" }],
    });
    expect(message.stop_reason).toBe("max_tokens");
    expect(message.content).toEqual([{ type: "text", text: "[A] echo:" }]);
    expect(message.usage.output_tokens).toBe(2);
  });

  it("passes tools and a named tool_choice, and answers with a tool_use block", async () => {
    const message = await client().messages.create({
      model,
      max_tokens: 100,
      tools: [weatherTool],
      tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true },
      messages: [{ role: "user", content: "Weather in Paris?" }],
    });
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toHaveLength(1);
    expect(message.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: {} });
    expect((message.content[0] as Anthropic.ToolUseBlock).id).toMatch(/^call_/);
    expect(upstream.requests[0]!.body).toMatchObject({
      tools: [
        {
          type: "function",
          function: { name: "get_weather", description: "The weather in a city", parameters: weatherTool.input_schema },
        },
      ],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      parallel_tool_calls: false,
    });
  });

  it("sends a tool_result back as the chat API's tool message, after the assistant's tool call", async () => {
    const message = await client().messages.create({
      model,
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Let me look." },
            { type: "tool_use", id: "toolu_01", name: "get_weather", input: { city: "Paris" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_01", content: [{ type: "text", text: "18 C, sunny" }] },
            { type: "text", text: "Thanks, and now?" },
          ],
        },
      ],
    });
    expect(message.content).toEqual([{ type: "text", text: "[A] echo: Thanks, and now?" }]);
    expect(upstream.requests[0]!.body).toMatchObject({
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: "Let me look.",
          tool_calls: [{ id: "toolu_01", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
        },
        { role: "tool", tool_call_id: "toolu_01", content: "18 C, sunny" },
        { role: "user", content: "Thanks, and now?" },
      ],
    });
  });

  it("accepts the key as x-api-key too, as older Anthropic SDKs send it", async () => {
    const message = await client({ apiKey: null, headers: { "x-api-key": key } }).messages.create({
      model,
      max_tokens: 50,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.content).toEqual([{ type: "text", text: "[A] echo: hi" }]);
  });
});

describe("messages.stream", () => {
  it("streams text deltas that reassemble into the final message", async () => {
    const stream = client().messages.stream({
      model,
      max_tokens: 100,
      messages: [{ role: "user", content: "stream these words please" }],
    });
    const deltas: string[] = [];
    stream.on("text", (text) => deltas.push(text));
    const final = await stream.finalMessage();
    const expected = "[A] echo: stream these words please";
    expect(deltas.length).toBe(countTokens(expected));
    expect(deltas.join("")).toBe(expected);
    expect(final).toMatchObject({
      role: "assistant",
      model,
      content: [{ type: "text", text: expected }],
      stop_reason: "end_turn",
      usage: { input_tokens: countTokens("stream these words please"), output_tokens: countTokens(expected) },
    });
    expect(upstream.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("streams a tool call as input_json_delta into a tool_use block", async () => {
    const stream = client().messages.stream({
      model,
      max_tokens: 100,
      tools: [weatherTool],
      tool_choice: { type: "tool", name: "get_weather" },
      messages: [{ role: "user", content: "Weather?" }],
    });
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content).toHaveLength(1);
    expect(final.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: {} });
  });

  it("sends Anthropic's event lines in Anthropic's order", async () => {
    const response = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model, max_tokens: 100, stream: true, messages: [{ role: "user", content: "two words" }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = (await response.text())
      .trim()
      .split("\n\n")
      .map((frame) => {
        const [eventLine, dataLine] = frame.split("\n");
        const type = eventLine!.replace("event: ", "");
        const data = JSON.parse(dataLine!.replace("data: ", "")) as { type: string };
        expect(data.type).toBe(type);
        return type;
      });
    const deltas = countTokens("[A] echo: two words");
    expect(events).toEqual([
      "message_start",
      "content_block_start",
      ...Array(deltas).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });
});

describe("a stream that breaks", () => {
  it("ends with Anthropic's error event, which the SDK raises", async () => {
    upstream.setBehaviour({ dropStreamAfterChunks: 2 });
    const stream = client().messages.stream({
      model,
      max_tokens: 100,
      messages: [{ role: "user", content: "a long enough answer" }],
    });
    const deltas: string[] = [];
    stream.on("text", (text) => deltas.push(text));
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe("api_error");
    expect(deltas.join("")).toBe("[A] echo: ");
  });
});

describe("messages.countTokens", () => {
  it("estimates system, messages and tools with one estimator", async () => {
    const base = { model, system: "x".repeat(40), messages: [{ role: "user" as const, content: "y".repeat(39) }] };
    // "x"×40 + "\n" + "y"×39 = 80 characters, four a token.
    expect(await client().messages.countTokens(base)).toEqual({ input_tokens: 20 });
    const withTool = await client().messages.countTokens({ ...base, tools: [weatherTool] });
    const toolText = `get_weather The weather in a city ${JSON.stringify(weatherTool.input_schema)}`;
    expect(withTool.input_tokens).toBe(Math.ceil((80 + 1 + toolText.length) / 4));
    expect(upstream.requests).toHaveLength(0);
  });

  it("answers an unknown model with not_found_error", async () => {
    await expect(
      client().messages.countTokens({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});

describe("errors in Anthropic's shape", () => {
  it("turns a bad key into the SDK's AuthenticationError", async () => {
    const error = await client({ apiKey: "ak-wrong" })
      .messages.create({ model, max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as APIError).status).toBe(401);
    expect((error as APIError).type).toBe("authentication_error");
    const response = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "ak-wrong", "content-type": "application/json" },
      body: "{}",
    });
    const body = await response.json();
    expect(body).toEqual({
      type: "error",
      error: { type: "authentication_error", message: expect.any(String) },
      request_id: response.headers.get("x-request-id"),
    });
  });

  it("turns a bad body into the SDK's BadRequestError naming the field", async () => {
    const error = await client()
      .messages.create({
        model,
        messages: [{ role: "user", content: "x" }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as APIError).type).toBe("invalid_request_error");
    expect((error as APIError).apiMessage).toContain("max_tokens");
    expect(upstream.requests).toHaveLength(0);
  });

  it("tells the key's rate limit as rate_limit_error with Retry-After", async () => {
    const limited = (await fixture.addKey({ rpmLimit: 1 })).key;
    // The new key reaches the server by NOTIFY; listing models does not use up its one request.
    await eventually(async () => (await fetch(`${server.url}/v1/models`, { headers: { "x-api-key": limited } })).status === 200);
    const ask = () =>
      client({ apiKey: limited }).messages.create({ model, max_tokens: 10, messages: [{ role: "user", content: "x" }] });
    // Windows are fixed minutes: three calls in a row see at most one window edge, so one is refused.
    const outcomes = [];
    for (let call = 0; call < 3; call++) outcomes.push(await ask().catch((e: unknown) => e));
    const error = outcomes.find((outcome) => outcome instanceof Error);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as APIError).type).toBe("rate_limit_error");
    expect(Number((error as APIError).headers?.get("retry-after"))).toBeGreaterThan(0);
  });

  it("tells an upstream that keeps failing as api_error", async () => {
    upstream.setBehaviour({ failAll: 500 });
    const error = await client()
      .messages.create({ model, max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as APIError).status).toBe(502);
    expect((error as APIError).type).toBe("api_error");
  });

  it("keeps OpenAI's shape on the chat route", async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "x-api-key": "ak-wrong", "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(401);
    expect(Object.keys(await response.json())).toEqual(["error"]);
  });
});
