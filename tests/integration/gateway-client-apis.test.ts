// The Responses API and the legacy completions API through the real server, driven by the
// official, unmodified clients (openai, ai + @ai-sdk/openai, @langchain/openai). Upstreams: the
// OpenAI stand-in (tests/helpers/openai-stand-in.ts, chat completions only), so every request and
// answer is translated both ways, streams included; and the built-in simulator for plain text.
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { GatewayFixture, eventually, unique } from "../helpers/gateway-fixture";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let upstream: OpenAIStandIn;
let server: ServerProcess;
let key: string;
const model = unique("chat-only"); // the stand-in, which speaks chat completions only
const simulated = unique("sim"); // the built-in simulator
const slashed = `${unique("org")}/model`; // an id with a slash, as many providers name models

const openai = (prefix = "/v1", apiKey = key) =>
  new OpenAI({ apiKey, baseURL: `${server.url}${prefix}`, maxRetries: 0, timeout: 20_000 });
const aiSdk = () => createOpenAI({ apiKey: key, baseURL: `${server.url}/v1` });
const lastUpstreamBody = () => upstream.requests.at(-1)!.body as Record<string, unknown>;

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

beforeAll(async () => {
  upstream = await startOpenAIStandIn({ apiKey: "upstream-key", name: "A" });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("standin"),
    baseUrl: upstream.url,
    apiKey: "upstream-key",
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 } },
    deployments: [
      { modelName: model, upstreamModel: "gpt-4o-mini" },
      { modelName: slashed, upstreamModel: "gpt-4o" },
    ],
  });
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator"),
    deployments: [{ modelName: simulated, upstreamModel: "sim" }],
  });
  key = (await fixture.addKey()).key;
  // Failures injected here are about their answers, not circuits: keep the one deployment's circuit closed.
  server = await fixture.startServer({ env: { CIRCUIT_FAILURE_THRESHOLD: "1000" } });
});

afterAll(async () => {
  await fixture.close();
  await upstream?.close();
});

beforeEach(() => upstream.reset());

describe("openai SDK: responses", () => {
  it.each(["/v1", "/api/v1"])("creates a text response under %s, translated to chat and back", async (prefix) => {
    const response = await openai(prefix).responses.create({
      model,
      input: "say hi",
      instructions: "be brief",
      max_output_tokens: 50,
      temperature: 0.3,
      metadata: { trace: "t1" },
      store: true,
    });
    expect(response).toMatchObject({
      object: "response",
      status: "completed",
      model,
      instructions: "be brief",
      metadata: { trace: "t1" },
      incomplete_details: null,
      error: null,
    });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output_text).toBe("[A] echo: say hi");
    expect(response.output).toEqual([
      {
        type: "message",
        id: expect.stringMatching(/^msg_/),
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "[A] echo: say hi", annotations: [], logprobs: [] }],
      },
    ]);
    expect(response.usage).toMatchObject({
      input_tokens: 4,
      output_tokens: 4,
      total_tokens: 8,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    });
    expect(lastUpstreamBody()).toEqual({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "say hi" },
      ],
      max_completion_tokens: 50,
      temperature: 0.3,
    });
  });

  it("calls a function tool with tool_choice required, keeping the upstream's call id", async () => {
    upstream.setBehaviour({ toolArguments: '{"city":"Oslo"}' });
    const response = await openai().responses.create({
      model,
      input: "weather in Oslo?",
      tools: [weatherTool],
      tool_choice: "required",
    });
    expect(response.status).toBe("completed");
    expect(response.output).toEqual([
      {
        type: "function_call",
        id: expect.stringMatching(/^fc_/),
        call_id: expect.stringMatching(/^call_/),
        name: "get_weather",
        arguments: '{"city":"Oslo"}',
        status: "completed",
      },
    ]);
    expect(lastUpstreamBody()).toMatchObject({
      tools: [{ type: "function", function: { name: "get_weather", parameters: weatherTool.parameters, strict: false } }],
      tool_choice: "required",
    });
  });

  it("sends a function call's output back as a tool message on the next turn", async () => {
    const response = await openai().responses.create({
      model,
      input: [
        { role: "user", content: "weather in Oslo?" },
        { type: "function_call", call_id: "call_1", name: "get_weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call_output", call_id: "call_1", output: "rain" },
        { role: "user", content: "so, umbrella?" },
      ],
      tools: [weatherTool],
    });
    expect(response.output_text).toBe("[A] echo: so, umbrella?");
    expect((lastUpstreamBody().messages as unknown[]).slice(1, 3)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "rain" },
    ]);
  });

  it("translates text.format json_schema and json_object to response_format", async () => {
    const schema = { type: "object", properties: { echo: { type: "string" } }, required: ["echo"], additionalProperties: false };
    await openai().responses.create({
      model,
      input: "answer in json",
      text: { format: { type: "json_schema", name: "answer", schema, strict: true } },
    });
    expect(lastUpstreamBody().response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema, strict: true },
    });
    const json = await openai().responses.create({ model, input: "answer in json", text: { format: { type: "json_object" } } });
    expect(JSON.parse(json.output_text)).toEqual({ name: "A", echo: "answer in json" });
  });

  it("reports a response cut by max_output_tokens as incomplete", async () => {
    const response = await openai().responses.create({ model, input: "one two three four five", max_output_tokens: 2 });
    expect(response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
    expect(response.output_text).toBe("[A] echo:");
  });

  it("streams text that responses.stream reassembles, events numbered in order, usage on completion", async () => {
    const stream = openai().responses.stream({ model, input: "one two three four" });
    const types: string[] = [];
    const sequence: number[] = [];
    let deltas = "";
    for await (const event of stream) {
      types.push(event.type);
      sequence.push(event.sequence_number);
      if (event.type === "response.output_text.delta") deltas += event.delta;
    }
    const final = await stream.finalResponse();
    expect(deltas).toBe("[A] echo: one two three four");
    expect(final.output_text).toBe("[A] echo: one two three four");
    expect(final.usage).toMatchObject({ input_tokens: 4, output_tokens: 6, total_tokens: 10 });
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(types.filter((type) => type === "response.output_text.delta").length).toBe(6);
    expect(sequence).toEqual(sequence.map((_, at) => at));
    expect(lastUpstreamBody()).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it("streams a function call whose argument deltas join to the arguments (create with stream: true)", async () => {
    const toolArguments = '{"city":"Oslo","unit":"celsius"}';
    upstream.setBehaviour({ toolArguments });
    const stream = await openai().responses.create({
      model,
      input: "weather?",
      tools: [weatherTool],
      tool_choice: { type: "function", name: "get_weather" },
      stream: true,
    });
    let deltas = "";
    let deltaEvents = 0;
    let done: string | undefined;
    let item: unknown;
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.delta") {
        deltas += event.delta;
        deltaEvents++;
      }
      if (event.type === "response.function_call_arguments.done") done = event.arguments;
      if (event.type === "response.output_item.done") item = event.item;
    }
    expect(deltaEvents).toBeGreaterThan(2);
    expect(deltas).toBe(toolArguments);
    expect(done).toBe(toolArguments);
    expect(item).toMatchObject({
      type: "function_call",
      name: "get_weather",
      call_id: expect.stringMatching(/^call_/),
      arguments: toolArguments,
      status: "completed",
    });
  });

  it("answers plain text from the built-in simulator, JSON and streamed", async () => {
    const response = await openai().responses.create({ model: simulated, input: "hello simulator" });
    expect(response.status).toBe("completed");
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.usage!.output_tokens).toBeGreaterThan(0);
    const final = await openai().responses.stream({ model: simulated, input: "hello simulator" }).finalResponse();
    expect(final.output_text.length).toBeGreaterThan(0);
    expect(final.usage!.total_tokens).toBeGreaterThan(0);
  });

  it("refuses previous_response_id and answers GET /v1/responses/{id} with a clear 404", async () => {
    const refused = await openai()
      .responses.create({ model, input: "x", previous_response_id: "resp_123" })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      param: "previous_response_id",
      code: "unsupported_parameter",
    });
    const missing = await openai()
      .responses.retrieve("resp_123")
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ code: "response_not_found" });
    expect(upstream.requests).toHaveLength(0);
  });
});

describe("openai SDK: legacy completions", () => {
  it("completes a prompt as text_completion with OpenAI's default of 16 tokens", async () => {
    const completion = await openai().completions.create({ model, prompt: "Once upon a time" });
    expect(completion).toMatchObject({
      object: "text_completion",
      model,
      choices: [{ index: 0, text: "[A] echo: Once upon a time", logprobs: null, finish_reason: "stop" }],
    });
    expect(completion.id).toMatch(/^cmpl-/);
    expect(completion.usage).toEqual({ prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 });
    expect(lastUpstreamBody()).toEqual({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Once upon a time" }],
      max_tokens: 16,
    });
  });

  it("returns n choices with their index, and finish_reason length at max_tokens", async () => {
    const completion = await openai().completions.create({
      model,
      prompt: ["a b c d e"],
      n: 2,
      max_tokens: 3,
      stop: ["zzz"],
      seed: 1,
      user: "u1",
    });
    expect(completion.choices).toEqual([
      { index: 0, text: "[A] echo: a", logprobs: null, finish_reason: "length" },
      { index: 1, text: "[A] echo: a", logprobs: null, finish_reason: "length" },
    ]);
    expect(lastUpstreamBody()).toMatchObject({ n: 2, max_tokens: 3, stop: ["zzz"], seed: 1, user: "u1" });
  });

  it("answers several prompts as one completion: each prompt's n choices in order, usage summed", async () => {
    const completion = await openai().completions.create({
      model,
      prompt: ["first prompt", "second one here"],
      n: 2,
      temperature: 0.5,
    });
    expect(completion.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, "[A] echo: first prompt"],
      [1, "[A] echo: first prompt"],
      [2, "[A] echo: second one here"],
      [3, "[A] echo: second one here"],
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 18, total_tokens: 23 });
    // One chat call per prompt, each through the pipeline.
    expect(
      upstream.requests.map((request) => (request.body as { messages: Array<{ content: string }> }).messages[0]!.content).sort(),
    ).toEqual(["first prompt", "second one here"]);
  });

  it("streams legacy chunks that join to the text, with usage when asked", async () => {
    const stream = await openai().completions.create({
      model,
      prompt: "one two three",
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage;
    let finish;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("text_completion");
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("[A] echo: one two three");
    expect(finish).toBe("stop");
    expect(usage).toEqual({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
  });

  it("ends a raw legacy stream with data: [DONE]", async () => {
    const response = await fetch(`${server.url}/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: simulated, prompt: "hello", stream: true }),
    });
    expect(response.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await response.text();
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(text).toContain('"object":"text_completion"');
  });
});

describe("ai + @ai-sdk/openai (default provider = Responses API)", () => {
  it("generateText and streamText", async () => {
    const generated = await generateText({ model: aiSdk()(model), prompt: "hello ai sdk", maxRetries: 0 });
    expect(generated.text).toBe("[A] echo: hello ai sdk");
    expect(generated.finishReason).toBe("stop");
    expect(generated.usage).toMatchObject({ inputTokens: 3, outputTokens: 5 });
    expect(upstream.requests.at(-1)!.path).toBe("/v1/chat/completions");

    const streamed = streamText({ model: aiSdk()(model), prompt: "stream this please", maxRetries: 0 });
    let text = "";
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe("[A] echo: stream this please");
    expect(await streamed.finishReason).toBe("stop");
    expect((await streamed.usage).totalTokens).toBe(8);
  });

  it("generateText with a tool: the call, its result on the next step, then text", async () => {
    upstream.setBehaviour({ toolArguments: '{"city":"Oslo"}' });
    const seen: unknown[] = [];
    const result = await generateText({
      model: aiSdk()(model),
      prompt: "weather in Oslo?",
      maxRetries: 0,
      tools: {
        get_weather: tool({
          description: "Weather in a city",
          inputSchema: z.object({ city: z.string() }),
          execute: async (input) => {
            seen.push(input);
            return "rain";
          },
        }),
      },
      // Forced to call the tool first, then free to answer (the stand-in answers in text).
      prepareStep: ({ stepNumber }) =>
        stepNumber === 0 ? { toolChoice: { type: "tool", toolName: "get_weather" } } : { toolChoice: "auto" },
      stopWhen: stepCountIs(2),
    });
    expect(seen).toEqual([{ city: "Oslo" }]);
    expect(result.steps).toHaveLength(2);
    expect(result.steps[0]!.toolCalls).toMatchObject([{ toolName: "get_weather", input: { city: "Oslo" } }]);
    expect(result.text).toBe("[A] echo: weather in Oslo?");
    // The second step sent the call and its output, translated to an assistant turn and a tool message.
    const messages = lastUpstreamBody().messages as Array<Record<string, unknown>>;
    expect(messages.slice(-2)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: expect.stringMatching(/^call_/),
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: expect.stringMatching(/^call_/), content: "rain" },
    ]);
  });

  it("continues a conversation: item references are refused with the fix named, store: false sends the items", async () => {
    const opening = { role: "user" as const, content: "first turn" };
    const first = await generateText({ model: aiSdk()(model), messages: [opening], maxRetries: 0 });
    const messages = [opening, ...first.response.messages, { role: "user" as const, content: "second turn" }];
    // By default (store unset = true) the SDK refers to the earlier answer by id, which nothing here can resolve.
    const refused = await generateText({ model: aiSdk()(model), messages, maxRetries: 0 }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ statusCode: 400 });
    expect(String((refused as { responseBody?: string }).responseBody)).toMatch(/store = false/);
    const second = await generateText({
      model: aiSdk()(model),
      messages,
      maxRetries: 0,
      providerOptions: { openai: { store: false } },
    });
    expect(second.text).toBe("[A] echo: second turn");
    expect(lastUpstreamBody().messages).toEqual([
      { role: "user", content: "first turn" },
      { role: "assistant", content: "[A] echo: first turn" },
      { role: "user", content: "second turn" },
    ]);
  });
});

describe("@langchain/openai ChatOpenAI with useResponsesApi", () => {
  const chat = () =>
    new ChatOpenAI({ model, apiKey: key, configuration: { baseURL: `${server.url}/v1` }, useResponsesApi: true, maxRetries: 0 });

  it("invokes and streams", async () => {
    const message = await chat().invoke("hello langchain");
    expect(message.text).toBe("[A] echo: hello langchain");
    let text = "";
    for await (const chunk of await chat().stream("stream langchain")) text += chunk.text;
    expect(text).toBe("[A] echo: stream langchain");
    expect(upstream.requests.every((request) => request.path === "/v1/chat/completions")).toBe(true);
  });
});

describe("failures and metrics on the translated APIs", () => {
  it("tells a stream that breaks after the headers as an error event (responses) or error object (completions)", async () => {
    upstream.setBehaviour({ dropStreamAfterChunks: 2 });
    const events: string[] = [];
    for await (const event of await openai().responses.create({ model, input: "one two three four five", stream: true }))
      events.push(event.type);
    expect(events.slice(0, 2)).toEqual(["response.created", "response.in_progress"]);
    expect(events.at(-1)).toBe("error");
    expect(events).not.toContain("response.completed");

    upstream.setBehaviour({ dropStreamAfterChunks: 2 });
    const legacy = await openai().completions.create({ model, prompt: "one two three four five", stream: true });
    const failure = await (async () => {
      for await (const _ of legacy);
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: "stream_interrupted" });
  });

  it("answers an upstream failure in OpenAI's error shape, and counts requests under their endpoint", async () => {
    upstream.setBehaviour({ failAll: 500 });
    const failed = await fetch(`${server.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model, input: "x" }),
    });
    expect(failed.status).toBe(502);
    expect(Object.keys((await failed.json()).error).sort()).toEqual(["code", "message", "param", "type"]);
    upstream.setBehaviour({});
    await openai().completions.create({ model, prompt: "count me" });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `agenticorp_gateway_requests_total\\{endpoint="responses",model="${model}",provider="[^"]+",status="200",stream="false"\\} [1-9]`,
      ),
    );
    expect(metrics).toMatch(
      new RegExp(
        `agenticorp_gateway_requests_total\\{endpoint="responses",model="${model}",provider="none",status="502",stream="false"\\} 1`,
      ),
    );
    expect(metrics).toMatch(
      new RegExp(
        `agenticorp_gateway_requests_total\\{endpoint="completions",model="${model}",provider="[^"]+",status="200",stream="true"\\} [1-9]`,
      ),
    );
  });
});

describe("GET /v1/models/{id}", () => {
  it("answers every model the key may use, ids with a slash included, and 404 for the others", async () => {
    expect((await openai().models.retrieve(model)).id).toBe(model);
    expect((await openai("/api/v1").models.retrieve(slashed)).id).toBe(slashed);
    const raw = await fetch(`${server.url}/v1/models/${slashed}`, { headers: { authorization: `Bearer ${key}` } });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toMatchObject({ id: slashed, object: "model" });

    const limited = (await fixture.addKey({ allowedModels: [model] })).key;
    await eventually(
      async () => (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${limited}` } })).status === 200,
    );
    expect((await openai("/v1", limited).models.retrieve(model)).id).toBe(model);
    const hidden = await fetch(`${server.url}/v1/models/${slashed}`, { headers: { authorization: `Bearer ${limited}` } });
    expect(hidden.status).toBe(404);
    expect((await hidden.json()).error).toMatchObject({ code: "model_not_found", param: "model" });
  });
});
