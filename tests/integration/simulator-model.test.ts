// The built-in simulator behind the real server, driven by the official openai SDK the way agent
// frameworks drive a model: forced tool calls, structured outputs, streamed tool calls, a tool
// loop that ends, and client errors in OpenAI's shape; then by the frameworks the issue names
// (LangChain's withStructuredOutput, the AI SDK's generateObject).
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { generateObject, generateText, stepCountIs, tool } from "ai";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import OpenAI, { BadRequestError } from "openai";
import { zodResponseFormat } from "openai/helpers/zod";
import type { ChatCompletionFunctionTool } from "openai/resources/chat/completions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let server: ServerProcess;
let key: string;
// Served like the seeded `sim-fast`: no latency, no injected errors.
const model = unique("sim-fast");
const ajv = addFormats(new Ajv({ strict: false }));

const client = () => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 20_000 });

const weatherParameters = {
  type: "object",
  properties: {
    city: { type: "string" },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
    when: { type: "string", format: "date" },
  },
  required: ["city", "unit", "when"],
  additionalProperties: false,
};
const tools: ChatCompletionFunctionTool[] = [
  {
    type: "function",
    function: {
      name: "lookup_order",
      description: "Find an order",
      parameters: { type: "object", properties: { id: { type: "integer", minimum: 1 } }, required: ["id"] },
    },
  },
  {
    type: "function",
    function: { name: "get_weather", description: "Weather for a city", parameters: weatherParameters, strict: true },
  },
];

beforeAll(async () => {
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator-fast"),
    settings: { latencyMs: { median: 0, p99: 0 }, tokensPerSecond: 0, errorRate: 0 },
    deployments: [{ modelName: model, upstreamModel: "sim-fast" }],
  });
  key = (await fixture.addKey()).key;
  server = await fixture.startServer();
  await eventually(async () => {
    try {
      await client().chat.completions.create({ model, messages: [{ role: "user", content: "ready?" }] });
      return true;
    } catch {
      return false;
    }
  });
});
afterAll(() => fixture.close());

describe("the simulator through the gateway, with the openai SDK", () => {
  it("answers tool_choice required with a tool call whose arguments validate against the schema", async () => {
    const completion = await client().chat.completions.create({
      model,
      messages: [{ role: "user", content: "What will the weather be in Lisbon tomorrow?" }],
      tools,
      tool_choice: "required",
    });
    const [choice] = completion.choices;
    expect(choice!.finish_reason).toBe("tool_calls");
    const call = choice!.message.tool_calls![0]!;
    if (call.type !== "function") throw new Error(`expected a function call, got ${(call as { type: string }).type}`);
    expect(call.function.name).toBe("get_weather");
    expect(ajv.validate(weatherParameters, JSON.parse(call.function.arguments))).toBe(true);
    expect(completion.model).toBe(model);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("answers a json_schema response format with JSON the SDK parses into the zod type", async () => {
    const Recipe = z.object({
      title: z.string(),
      servings: z.int().min(1).max(12),
      ingredients: z.array(z.object({ name: z.string(), grams: z.number().nullable() })),
      diet: z.enum(["vegan", "vegetarian", "any"]),
    });
    const completion = await client().chat.completions.parse({
      model,
      messages: [{ role: "user", content: "A recipe for soup, as JSON." }],
      response_format: zodResponseFormat(Recipe, "recipe"),
    });
    const parsed = completion.choices[0]!.message.parsed;
    expect(parsed).not.toBeNull();
    expect(Recipe.parse(parsed)).toEqual(parsed);
  });

  it("streams a forced tool call that the SDK's accumulator rebuilds into valid arguments", async () => {
    const stream = client().chat.completions.stream({
      model,
      messages: [{ role: "user", content: "order 42?" }],
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    const call = final.choices[0]!.message.tool_calls![0]!;
    if (call.type !== "function") throw new Error(`expected a function call, got ${(call as { type: string }).type}`);
    expect(call.function.name).toBe("get_weather");
    expect(ajv.validate(weatherParameters, JSON.parse(call.function.arguments))).toBe(true);
  });

  it("ends an agent loop: a tool call, the tool's result, then an answer quoting it", async () => {
    const seen: unknown[] = [];
    const runner = client().chat.completions.runTools(
      {
        model,
        messages: [{ role: "user", content: "Where is my order? Please look it up." }],
        tools: [
          {
            type: "function",
            function: {
              name: "lookup_order",
              description: "Find an order",
              parameters: { type: "object", properties: { id: { type: "integer", minimum: 1 } }, required: ["id"] },
              parse: JSON.parse,
              function: (args: { id: number }) => {
                seen.push(args);
                return { status: "shipped" };
              },
            },
          },
        ],
      },
      { maxChatCompletions: 4 },
    );
    const answer = await runner.finalContent();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({ id: expect.any(Number) });
    expect(answer).toBe('lookup_order returned: {"status":"shipped"}');
  });

  it("refuses what it cannot answer with a 400 in OpenAI's shape", async () => {
    const tooMany = client().chat.completions.create({ model, messages: [{ role: "user", content: "x" }], n: 9 });
    await expect(tooMany).rejects.toBeInstanceOf(BadRequestError);
    await expect(tooMany).rejects.toMatchObject({ status: 400, param: "n", type: "invalid_request_error" });
    const unknownTool = client().chat.completions.create({
      model,
      messages: [{ role: "user", content: "x" }],
      tools,
      tool_choice: { type: "function", function: { name: "nope" } },
    });
    await expect(unknownTool).rejects.toMatchObject({ status: 400, param: "tool_choice" });
  });
});

describe("the simulator through the gateway, with agent frameworks", () => {
  const Ticket = z.object({
    title: z.string(),
    priority: z.enum(["low", "medium", "high"]),
    labels: z.array(z.string()),
    estimate_hours: z.number().min(0).max(40).nullable(),
  });

  it.each(["functionCalling", "jsonSchema"] as const)(
    "LangChain's withStructuredOutput (%s) returns an object of the schema",
    async (method) => {
      const chat = new ChatOpenAI({ model, apiKey: key, configuration: { baseURL: `${server.url}/v1` }, maxRetries: 0 });
      const structured = chat.withStructuredOutput(Ticket, { method });
      const ticket = await structured.invoke("File a ticket: the login page is slow.");
      expect(Ticket.parse(ticket)).toEqual(ticket);
    },
  );

  it("the AI SDK's generateObject returns an object of the schema, through chat completions and the Responses API", async () => {
    const provider = createOpenAI({ apiKey: key, baseURL: `${server.url}/v1` });
    for (const languageModel of [provider.chat(model), provider(model)]) {
      const { object } = await generateObject({
        model: languageModel,
        schema: Ticket,
        prompt: "File a ticket: the login page is slow.",
        maxRetries: 0,
      });
      expect(Ticket.parse(object)).toEqual(object);
    }
  });

  it("the AI SDK's default provider (Responses API) runs a tool loop to a text answer", async () => {
    const provider = createOpenAI({ apiKey: key, baseURL: `${server.url}/v1` });
    const calls: Array<{ city: string }> = [];
    const result = await generateText({
      model: provider(model),
      prompt: "What is the weather in Oslo?",
      tools: {
        get_weather: tool({
          description: "Weather for a city",
          inputSchema: z.object({ city: z.string() }),
          execute: async (input) => {
            calls.push(input);
            return { forecast: "sunny" };
          },
        }),
      },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
      providerOptions: { openai: { store: false } },
    });
    expect(calls).toHaveLength(1);
    expect(typeof calls[0]!.city).toBe("string");
    expect(result.steps.map((s) => s.finishReason)).toEqual(["tool-calls", "stop"]);
    expect(result.text).toContain("sunny");
  });

  it("LangChain's bindTools gets a tool call, and invoke and stream answer text", async () => {
    const chat = new ChatOpenAI({ model, apiKey: key, configuration: { baseURL: `${server.url}/v1` }, maxRetries: 0 });
    const withTools = chat.bindTools(
      tools.map((t) => ({ type: "function" as const, function: t.function })),
      { tool_choice: "required" },
    );
    const message = await withTools.invoke("What will the weather be in Lisbon tomorrow?");
    expect(message.tool_calls?.map((c) => c.name)).toEqual(["get_weather"]);
    expect(ajv.validate(weatherParameters, message.tool_calls![0]!.args)).toBe(true);

    const answer = await chat.invoke("Say hello.");
    expect(typeof answer.content).toBe("string");
    expect((answer.content as string).length).toBeGreaterThan(0);
    let streamed = "";
    let chunks = 0;
    for await (const chunk of await chat.stream("Say hello.")) {
      streamed += chunk.content as string;
      chunks++;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(streamed).toBe(answer.content);
  });
});
