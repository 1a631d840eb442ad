// The `anthropic` provider kind through the real server: OpenAI-format clients (the official
// `openai` SDK) reach a model served by Anthropic's Messages API, and Anthropic-format clients
// (@anthropic-ai/sdk) reach it too, Messages → chat → Messages. The upstream is the Anthropic
// stand-in (tests/helpers/anthropic-stand-in.ts).
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLiveProvider } from "../../lib/data-plane/providers/factory";
import { startAnthropicStandIn, type AnthropicStandIn } from "../helpers/anthropic-stand-in";
import { eventually, GatewayFixture, TEST_SECRET, unique } from "../helpers/gateway-fixture";
import { countTokens, startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import type { ServerProcess } from "../helpers/server-process";

const UPSTREAM_KEY = "sk-ant-stand-in-key";
const fixture = new GatewayFixture();
let upstream: AnthropicStandIn;
let chatUpstream: OpenAIStandIn;
let server: ServerProcess;
let key: string;
let providerId: string;
const model = unique("claude");
const chatModel = unique("gpt");

const openai = () => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 20_000 });
const anthropic = () => new Anthropic({ apiKey: key, baseURL: server.url, maxRetries: 0, timeout: 20_000 });
const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } } },
  },
};

beforeAll(async () => {
  upstream = await startAnthropicStandIn({ apiKey: UPSTREAM_KEY });
  const provider = await fixture.addProvider({
    kind: "anthropic",
    name: unique("anthropic"),
    baseUrl: upstream.url,
    apiKey: UPSTREAM_KEY,
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 } },
    deployments: [{ modelName: model, upstreamModel: "claude-sonnet-4-5" }],
  });
  providerId = provider.id;
  // An OpenAI-compatible provider beside it, to compare how the two kinds take an upstream's refusal.
  chatUpstream = await startOpenAIStandIn({ name: "chat" });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("chat"),
    baseUrl: chatUpstream.url,
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 } },
    deployments: [{ modelName: chatModel, upstreamModel: "gpt-4o-mini" }],
  });
  key = (await fixture.addKey()).key;
  server = await fixture.startServer();
  await eventually(
    async () => (await fetch(`${server.url}/v1/models/${model}`, { headers: { authorization: `Bearer ${key}` } })).status === 200,
  );
});

afterAll(async () => {
  await fixture.close();
  await Promise.all([upstream?.close(), chatUpstream?.close()]);
});

beforeEach(() => {
  upstream.reset();
  chatUpstream.reset();
});

describe("the provider kind", () => {
  it("stores its API key encrypted, and its connection test reaches /v1/models", async () => {
    const row = await fixture.prisma.provider.findUniqueOrThrow({ where: { id: providerId } });
    expect(row.kind).toBe("anthropic");
    expect(row.apiKeyEncrypted).not.toBeNull();
    expect(row.apiKeyEncrypted).not.toContain(UPSTREAM_KEY);
    const live = createLiveProvider(row, TEST_SECRET);
    try {
      await live.client.probe(AbortSignal.timeout(5_000));
    } finally {
      await live.client.close();
    }
    expect(upstream.requests.map((r) => [r.method, r.path, r.headers["x-api-key"], r.headers["anthropic-version"]])).toEqual([
      ["GET", "/v1/models", UPSTREAM_KEY, "2023-06-01"],
    ]);
  });
});

describe("OpenAI-format clients", () => {
  it("get a chat completion from a Messages upstream", async () => {
    const completion = await openai().chat.completions.create({
      model,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello there" },
      ],
      temperature: 1.5,
      user: "user-9",
    });
    const expected = "[claude-stand-in] echo: Hello there";
    expect(completion.model).toBe(model);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: expected },
      finish_reason: "stop",
    });
    expect(completion.usage).toEqual({
      prompt_tokens: countTokens("Be brief. Hello there"),
      completion_tokens: countTokens(expected),
      total_tokens: countTokens("Be brief. Hello there") + countTokens(expected),
    });
    const sent = upstream.requests[0]!;
    expect(sent.path).toBe("/v1/messages");
    expect(sent.headers["x-api-key"]).toBe(UPSTREAM_KEY);
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      system: "Be brief.",
      temperature: 1,
      metadata: { user_id: "user-9" },
      messages: [{ role: "user", content: [{ type: "text", text: "Hello there" }] }],
    });
  });

  it("get tool calls, and send tool results back as tool_result blocks", async () => {
    const completion = await openai().chat.completions.create({
      model,
      messages: [{ role: "user", content: "Weather?" }],
      tools: [weather],
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call).toMatchObject({ type: "function", function: { name: "get_weather", arguments: "{}" } });
    expect(upstream.requests[0]!.body).toMatchObject({
      tools: [{ name: "get_weather", description: "Weather in a city", input_schema: weather.function.parameters }],
      tool_choice: { type: "tool", name: "get_weather" },
    });

    upstream.reset();
    const followUp = await openai().chat.completions.create({
      model,
      tools: [weather],
      messages: [
        { role: "user", content: "Weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: call.id, type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
        },
        { role: "tool", tool_call_id: call.id, content: "3 C" },
        { role: "user", content: "And tomorrow?" },
      ],
    });
    expect(followUp.choices[0]!.message.content).toBe("[claude-stand-in] echo: And tomorrow?");
    expect((upstream.requests[0]!.body as { messages: unknown }).messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Weather?" }] },
      { role: "assistant", content: [{ type: "tool_use", id: call.id, name: "get_weather", input: { city: "Oslo" } }] },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: call.id, content: "3 C" },
          { type: "text", text: "And tomorrow?" },
        ],
      },
    ]);
  });

  it("stream chat chunks from a Messages stream, usage included when asked", async () => {
    const stream = await openai().chat.completions.create({
      model,
      messages: [{ role: "user", content: "count these four words" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
      expect(chunk.model).toBe(model);
    }
    const expected = "[claude-stand-in] echo: count these four words";
    expect(text).toBe(expected);
    expect(finish).toBe("stop");
    expect(usage).toEqual({
      prompt_tokens: 4,
      completion_tokens: countTokens(expected),
      total_tokens: 4 + countTokens(expected),
    });
    expect(upstream.requests[0]!.body).toMatchObject({ stream: true });
  });

  it("get a 400 for what Messages cannot express, without an upstream call", async () => {
    const error = await openai()
      .chat.completions.create({ model, n: 2, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain("n must be 1");
    expect(upstream.requests).toHaveLength(0);
  });

  it("are retried past an overloaded upstream (529), like any upstream's 5xx", async () => {
    upstream.behaviour = { failNext: { count: 1, status: 529 } };
    const completion = await openai().chat.completions.create({ model, messages: [{ role: "user", content: "again" }] });
    expect(completion.choices[0]!.message.content).toBe("[claude-stand-in] echo: again");
    expect(upstream.requests).toHaveLength(2);
  });
});

describe("upstream refusals", () => {
  // One status mapping for every HTTP provider kind (lib/data-plane/providers/upstream-http.ts): whatever the
  // gateway makes of an upstream rejecting our credentials or our access, it makes the same of both.
  it.each([401, 403])("treats an upstream %i from Anthropic as from an OpenAI-compatible upstream", async (status) => {
    const outcome = async (asked: string) => {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: asked, messages: [{ role: "user", content: "x" }] }),
      });
      // The code and message may pass on the upstream's own words, which differ between the APIs.
      const body = (await response.json()) as { error: { type: string } };
      return { status: response.status, type: body.error.type };
    };
    upstream.behaviour = { failNext: { count: 1, status } };
    chatUpstream.setBehaviour({ failNext: { count: 1, status } });
    const [fromAnthropic, fromChat] = [await outcome(model), await outcome(chatModel)];
    expect(fromAnthropic).toEqual(fromChat);
    expect(upstream.requests).toHaveLength(1);
    expect(chatUpstream.requests).toHaveLength(1);
  });
});

describe("Anthropic-format clients", () => {
  it("reach it Messages → chat → Messages, the stop sequence told through", async () => {
    const message = await anthropic().messages.create({
      model,
      max_tokens: 200,
      stop_sequences: ["echo"],
      messages: [{ role: "user", content: "ping" }],
    });
    expect(message).toMatchObject({
      model,
      content: [{ type: "text", text: "[claude-stand-in] " }],
      stop_reason: "stop_sequence",
      stop_sequence: "echo",
    });
    expect(upstream.requests[0]!.body).toMatchObject({ max_tokens: 200, stop_sequences: ["echo"] });
  });

  it("stream from it, with the final message's usage", async () => {
    const final = await anthropic()
      .messages.stream({ model, max_tokens: 3, messages: [{ role: "user", content: "one two three four" }] })
      .finalMessage();
    expect(final).toMatchObject({
      content: [{ type: "text", text: "[claude-stand-in] echo: one" }],
      stop_reason: "max_tokens",
      usage: { input_tokens: 4, output_tokens: 3 },
    });
  });
});
