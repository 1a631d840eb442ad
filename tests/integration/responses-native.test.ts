// POST /v1/responses passed through to upstreams marked as speaking the Responses API natively
// (provider setting responsesApi: "native"), through the real server, driven by the official
// clients (openai, ai + @ai-sdk/openai). Upstreams: two OpenAI stand-ins (tests/helpers/openai-stand-in.ts),
// "N" marked native and "T" left translating, so each test can see which form went where.
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GatewayFixture, unique } from "../helpers/gateway-fixture";
import { startOpenAIStandIn, type OpenAIStandIn, type RecordedRequest } from "../helpers/openai-stand-in";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let native: OpenAIStandIn;
let translating: OpenAIStandIn;
let server: ServerProcess;
let key: string;
const nativeOnly = unique("native"); // one deployment, on the native provider
// Both providers; the router picks by weight, so one side is (almost always, 1000:1) tried first.
const nativeFirst = unique("native-first");
const translateFirst = unique("translate-first");

const timeouts = { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 };
const openai = () => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 20_000 });
const aiSdk = () => createOpenAI({ apiKey: key, baseURL: `${server.url}/v1` });
const lastRequest = (upstream: OpenAIStandIn) => upstream.requests.at(-1)!;
/** The stand-in's answer as the client must see it: intact, but for the public model name. */
const asServed = (request: RecordedRequest, model: string) => ({ ...(request.answer as Record<string, unknown>), model });

const weatherTool = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};

async function postResponses(body: Record<string, unknown>) {
  return fetch(`${server.url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** The `event:` types and parsed `data:` of a raw Responses stream. */
function parseEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>;
      return { event, data };
    });
}

beforeAll(async () => {
  native = await startOpenAIStandIn({ apiKey: "native-key", name: "N" });
  translating = await startOpenAIStandIn({ apiKey: "translating-key", name: "T" });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("native-upstream"),
    baseUrl: native.url,
    apiKey: "native-key",
    settings: { timeouts, responsesApi: "native" },
    deployments: [
      { modelName: nativeOnly, upstreamModel: "gpt-4o-mini" },
      { modelName: nativeFirst, upstreamModel: "gpt-4o-mini", weight: 1000 },
      { modelName: translateFirst, upstreamModel: "gpt-4o-mini", weight: 1 },
    ],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("translating-upstream"),
    baseUrl: translating.url,
    apiKey: "translating-key",
    settings: { timeouts },
    deployments: [
      { modelName: nativeFirst, upstreamModel: "gpt-4o", weight: 1 },
      { modelName: translateFirst, upstreamModel: "gpt-4o", weight: 1000 },
    ],
  });
  key = (await fixture.addKey()).key;
  // Failures injected here are about failover, not circuits: keep every circuit closed.
  server = await fixture.startServer({ env: { CIRCUIT_FAILURE_THRESHOLD: "1000" } });
});

afterAll(async () => {
  await fixture.close();
  await native?.close();
  await translating?.close();
});

beforeEach(() => {
  native.reset();
  translating.reset();
});

describe("openai SDK against a native upstream", () => {
  it("sends the client's own Responses body upstream and returns the upstream's response intact", async () => {
    const body = {
      model: nativeOnly,
      input: "say hi",
      instructions: "be brief",
      max_output_tokens: 50,
      temperature: 0.3,
      metadata: { trace: "t1" },
      store: false,
    };
    const response = await openai().responses.create(body);
    const upstream = lastRequest(native);
    expect(upstream.path).toBe("/v1/responses");
    expect(upstream.body).toEqual({ ...body, model: "gpt-4o-mini" });
    expect(upstream.headers.authorization).toBe("Bearer native-key");
    expect(response).toEqual({ ...asServed(upstream, nativeOnly), output_text: "[N] echo: say hi" });
    // The upstream's own ids, not the translation's fresh ones.
    expect(response.id).toBe((upstream.answer as { id: string }).id);
    expect(response.usage).toMatchObject({ input_tokens: 4, output_tokens: 4, total_tokens: 8 });
    expect(translating.requests).toHaveLength(0);
  });

  it("passes a function tool and the upstream's function_call through", async () => {
    native.setBehaviour({ toolArguments: '{"city":"Oslo"}' });
    const response = await openai().responses.create({
      model: nativeOnly,
      input: "weather in Oslo?",
      tools: [weatherTool],
      tool_choice: "required",
    });
    const upstream = lastRequest(native);
    expect(upstream.body).toEqual({
      model: "gpt-4o-mini",
      input: "weather in Oslo?",
      tools: [weatherTool],
      tool_choice: "required",
    });
    expect(response.output).toEqual((upstream.answer as { output: unknown }).output);
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
  });

  it("relays the upstream's event stream: its events in order, the model renamed, no [DONE]", async () => {
    const stream = openai().responses.stream({ model: nativeOnly, input: "one two three four" });
    const types: string[] = [];
    let deltas = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") deltas += event.delta;
    }
    const final = await stream.finalResponse();
    const upstream = lastRequest(native);
    expect(upstream.body).toEqual({ model: "gpt-4o-mini", input: "one two three four", stream: true });
    expect(deltas).toBe("[N] echo: one two three four");
    // The SDK's stream helper adds its parsed fields to what it received.
    expect(final).toMatchObject({ ...asServed(upstream, nativeOnly), output_text: "[N] echo: one two three four" });
    expect(types).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...Array(6).fill("response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);

    const raw = await postResponses({ model: nativeOnly, input: "raw stream", stream: true });
    expect(raw.headers.get("content-type")).toMatch(/text\/event-stream/);
    const text = await raw.text();
    expect(text).not.toContain("[DONE]");
    const events = parseEvents(text);
    expect(events.every(({ event, data }) => event === data.type)).toBe(true);
    expect(events.map(({ data }) => data.sequence_number)).toEqual(events.map((_, at) => at));
    expect(events.at(-1)!.event).toBe("response.completed");
    expect(events.at(-1)!.data.response).toEqual(asServed(lastRequest(native), nativeOnly));
    expect((events[0]!.data.response as { model: string }).model).toBe(nativeOnly);
  });

  it("streams a function call whose argument deltas join to the arguments", async () => {
    const toolArguments = '{"city":"Oslo","unit":"celsius"}';
    native.setBehaviour({ toolArguments });
    const stream = await openai().responses.create({
      model: nativeOnly,
      input: "weather?",
      tools: [weatherTool],
      tool_choice: { type: "function", name: "get_weather" },
      stream: true,
    });
    let deltas = "";
    let item: unknown;
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.delta") deltas += event.delta;
      if (event.type === "response.output_item.done") item = event.item;
    }
    expect(lastRequest(native).path).toBe("/v1/responses");
    expect(deltas).toBe(toolArguments);
    expect(item).toMatchObject({ type: "function_call", name: "get_weather", arguments: toolArguments, status: "completed" });
  });

  it("tells a native stream that breaks after the headers as an error event, numbered after the upstream's", async () => {
    native.setBehaviour({ dropStreamAfterChunks: 2 });
    const events = parseEvents(
      await (await postResponses({ model: nativeOnly, input: "one two three four five", stream: true })).text(),
    );
    expect(events.slice(0, 2).map(({ event }) => event)).toEqual(["response.created", "response.in_progress"]);
    expect(events.at(-1)).toEqual({
      event: "error",
      data: {
        type: "error",
        sequence_number: events.length - 1,
        code: "stream_interrupted",
        message: expect.any(String),
        param: null,
      },
    });
    expect(events.map(({ event }) => event)).not.toContain("response.completed");
    expect(lastRequest(native).path).toBe("/v1/responses");
  });

  it("counts the upstream's input_tokens and output_tokens in the token metrics", async () => {
    const model = nativeOnly;
    const before = await tokenCounts(model);
    await openai().responses.create({ model, input: "count these four words" });
    await openai().responses.stream({ model, input: "and these" }).finalResponse();
    const after = await tokenCounts(model);
    // JSON: 4 in, 6 out ("[N] echo: count these four words"); stream: 2 in, 4 out ("[N] echo: and these").
    expect(after.prompt - before.prompt).toBe(6);
    expect(after.completion - before.completion).toBe(10);
    expect(native.requests.map((request) => request.path)).toEqual(["/v1/responses", "/v1/responses"]);
  });
});

async function tokenCounts(model: string): Promise<{ prompt: number; completion: number }> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  const read = (direction: string) =>
    Number(new RegExp(`agenticorp_tokens_total\\{model="${model}",direction="${direction}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  return { prompt: read("prompt"), completion: read("completion") };
}

describe("ai + @ai-sdk/openai (default provider = Responses API) against a native upstream", () => {
  it("generateText and streamText", async () => {
    const generated = await generateText({ model: aiSdk()(nativeOnly), prompt: "hello ai sdk", maxRetries: 0 });
    expect(generated.text).toBe("[N] echo: hello ai sdk");
    expect(generated.finishReason).toBe("stop");
    expect(generated.usage).toMatchObject({ inputTokens: 3, outputTokens: 5 });
    const upstream = lastRequest(native);
    expect(upstream.path).toBe("/v1/responses");
    expect(upstream.body).toMatchObject({
      model: "gpt-4o-mini",
      input: [{ role: "user", content: [{ type: "input_text", text: "hello ai sdk" }] }],
    });
    expect(upstream.body).not.toHaveProperty("messages");

    const streamed = streamText({ model: aiSdk()(nativeOnly), prompt: "stream this please", maxRetries: 0 });
    let text = "";
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe("[N] echo: stream this please");
    expect(await streamed.finishReason).toBe("stop");
    expect((await streamed.usage).totalTokens).toBe(8);
    expect(native.requests.map((request) => request.path)).toEqual(["/v1/responses", "/v1/responses"]);
  });
});

describe("failover across forms, decided per deployment", () => {
  // 1000:1 weights: the heavy deployment is tried first with probability 1000/1001 per request;
  // three requests per test make a run where it never was about one in a billion.
  const inputs = ["first try", "second try", "third try"];

  it("from a native deployment answering 500 to a translating one (JSON and stream)", async () => {
    native.setBehaviour({ failAll: 500 });
    for (const input of inputs) {
      const response = await openai().responses.create({ model: nativeFirst, input });
      expect(response.output_text).toBe(`[T] echo: ${input}`);
      expect(response.model).toBe(nativeFirst);
    }
    const final = await openai().responses.stream({ model: nativeFirst, input: "streamed try" }).finalResponse();
    expect(final.output_text).toBe("[T] echo: streamed try");
    expect(native.requests.length).toBeGreaterThan(0);
    expect(
      native.requests.every(
        (request) => request.path === "/v1/responses" && (request.body as { input?: unknown }).input !== undefined,
      ),
    ).toBe(true);
    expect(translating.requests.map((request) => request.path)).toEqual(Array(4).fill("/v1/chat/completions"));
    expect(translating.requests.every((request) => (request.body as { messages?: unknown }).messages !== undefined)).toBe(true);
  });

  it("from a translating deployment answering 500 to a native one (JSON and stream)", async () => {
    translating.setBehaviour({ failAll: 500 });
    for (const input of inputs) {
      const response = await openai().responses.create({ model: translateFirst, input });
      expect(response.output_text).toBe(`[N] echo: ${input}`);
      expect(response.id).toBe((native.requests.at(-1)!.answer as { id: string }).id);
    }
    const final = await openai().responses.stream({ model: translateFirst, input: "streamed try" }).finalResponse();
    expect(final.output_text).toBe("[N] echo: streamed try");
    expect(translating.requests.length).toBeGreaterThan(0);
    expect(translating.requests.every((request) => request.path === "/v1/chat/completions")).toBe(true);
    expect(native.requests.map((request) => request.path)).toEqual(Array(4).fill("/v1/responses"));
  });
});

describe("the response cache", () => {
  it("keeps a native answer apart from chat's: each API gets its own form back", async () => {
    const text = `cache me ${unique("x")}`;
    const first = await postResponses({ model: nativeOnly, input: text, temperature: 0 });
    expect(first.headers.get("x-agenticorp-cache")).toBe("miss");
    const firstBody = await first.json();
    const second = await postResponses({ model: nativeOnly, input: text, temperature: 0 });
    expect(second.headers.get("x-agenticorp-cache")).toBe("hit");
    expect(await second.json()).toEqual(firstBody);
    expect(firstBody).toMatchObject({
      object: "response",
      model: nativeOnly,
      output: [{ type: "message", content: [{ text: `[N] echo: ${text}` }] }],
    });

    // The same conversation asked as a chat completion: a chat answer, never the cached response.
    const chat = await openai().chat.completions.create({
      model: nativeOnly,
      messages: [{ role: "user", content: text }],
      temperature: 0,
    });
    expect(chat.object).toBe("chat.completion");
    expect(chat.choices[0]!.message.content).toBe(`[N] echo: ${text}`);
    expect(native.requests.map((request) => request.path)).toEqual(["/v1/responses", "/v1/chat/completions"]);
  });
});
