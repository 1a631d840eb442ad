// The stand-in is only worth trusting if the official SDK accepts it as OpenAI: every check here
// goes through the `openai` client unless it needs bytes the SDK hides (raw SSE, invalid JSON).
import OpenAI, {
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  RateLimitError,
} from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  countTokens,
  type OpenAIStandIn,
  RETRY_AFTER_SECONDS,
  standInEmbedding,
  startOpenAIStandIn,
} from "../helpers/openai-stand-in";

const API_KEY = "sk-upstream-test-key";
let standIn: OpenAIStandIn;

function client(options: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
  return new OpenAI({ apiKey: API_KEY, baseURL: standIn.url, maxRetries: 0, timeout: 5_000, ...options });
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

beforeAll(async () => {
  standIn = await startOpenAIStandIn({ apiKey: API_KEY, models: ["gpt-4o-mini", "gpt-4o"], name: "primary" });
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => {
  standIn.reset();
});

describe("non-streaming chat completions", () => {
  it("answers in OpenAI's exact shape with a deterministic echo and word-count usage", async () => {
    const completion = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello there" },
      ],
    });
    expect(completion).toEqual({
      id: expect.stringMatching(/^chatcmpl-[A-Za-z0-9]{29}$/),
      object: "chat.completion",
      created: expect.any(Number),
      model: "gpt-4o-mini",
      system_fingerprint: "fp_standin",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "[primary] echo: hello there", refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 },
    });
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(5);
    expect(completion._request_id).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("records method, path, headers and the body with unknown fields untouched", async () => {
    const before = Date.now();
    await client({ defaultHeaders: { "x-extra-header": "kept" } }).chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      // @ts-expect-error a field the SDK does not know must still reach the upstream as sent
      vendor_extension: { nested: [1, 2] },
    });
    expect(standIn.requests).toHaveLength(1);
    const [recorded] = standIn.requests;
    expect(recorded).toMatchObject({ method: "POST", path: "/v1/chat/completions", url: "/v1/chat/completions" });
    expect(recorded!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(recorded!.headers["x-extra-header"]).toBe("kept");
    expect(recorded!.body).toEqual({
      model: "gpt-4o",
      messages: [{ role: "user", content: "hi" }],
      vendor_extension: { nested: [1, 2] },
    });
    expect(JSON.parse(recorded!.rawBody)).toEqual(recorded!.body);
    expect(recorded!.receivedAt).toBeGreaterThanOrEqual(before);
  });

  it("reads the last user message from string or text-part content", async () => {
    const completion = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "user", content: "first" },
        { role: "assistant", content: "ok" },
        {
          role: "user",
          content: [
            { type: "text", text: "part one" },
            { type: "image_url", image_url: { url: "data:image/png;base64,AA==" } },
            { type: "text", text: "part two" },
          ],
        },
      ],
    });
    expect(completion.choices[0]!.message.content).toBe("[primary] echo: part one part two");
  });

  it("returns n identical choices and counts completion tokens over all of them", async () => {
    const completion = await client().chat.completions.create({
      model: "gpt-4o-mini",
      n: 3,
      messages: [{ role: "user", content: "a b" }],
    });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(new Set(completion.choices.map((choice) => choice.message.content))).toEqual(new Set(["[primary] echo: a b"]));
    expect(completion.usage).toEqual({ prompt_tokens: 2, completion_tokens: 12, total_tokens: 14 });
  });

  it("truncates to max_tokens / max_completion_tokens with finish_reason length", async () => {
    const messages = [{ role: "user" as const, content: "one two three four five" }];
    const byMaxTokens = await client().chat.completions.create({ model: "gpt-4o-mini", max_tokens: 3, messages });
    expect(byMaxTokens.choices[0]).toMatchObject({ message: { content: "[primary] echo: one" }, finish_reason: "length" });
    expect(byMaxTokens.usage!.completion_tokens).toBe(3);
    const byCompletionTokens = await client().chat.completions.create({
      model: "gpt-4o-mini",
      max_completion_tokens: 4,
      messages,
    });
    expect(byCompletionTokens.choices[0]).toMatchObject({
      message: { content: "[primary] echo: one two" },
      finish_reason: "length",
    });
    const roomy = await client().chat.completions.create({ model: "gpt-4o-mini", max_tokens: 100, messages });
    expect(roomy.choices[0]!.finish_reason).toBe("stop");
  });

  it("cuts before the earliest stop sequence, string or array", async () => {
    const messages = [{ role: "user" as const, content: "alpha beta gamma" }];
    const single = await client().chat.completions.create({ model: "gpt-4o-mini", stop: " gamma", messages });
    expect(single.choices[0]).toMatchObject({ message: { content: "[primary] echo: alpha beta" }, finish_reason: "stop" });
    const several = await client().chat.completions.create({ model: "gpt-4o-mini", stop: ["gamma", "beta"], messages });
    expect(several.choices[0]!.message.content).toBe("[primary] echo: alpha ");
  });

  it("answers json_object requests with a JSON string, and refuses them without 'json' in the messages", async () => {
    const completion = await client().chat.completions.create({
      model: "gpt-4o-mini",
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: "reply in JSON please" }],
    });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ name: "primary", echo: "reply in JSON please" });

    const refused = client().chat.completions.create({
      model: "gpt-4o-mini",
      response_format: { type: "json_object" },
      messages: [{ role: "user", content: "hi" }],
    });
    await expect(refused).rejects.toBeInstanceOf(BadRequestError);
    await expect(refused).rejects.toMatchObject({ status: 400, param: "messages" });
  });
});

describe("tool calls", () => {
  const tools = [
    { type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: {} } } },
    { type: "function" as const, function: { name: "get_time", parameters: { type: "object", properties: {} } } },
  ];

  it("calls the function tool_choice names", async () => {
    const completion = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "weather?" }],
      tools,
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    expect(completion.choices).toEqual([
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          refusal: null,
          tool_calls: [
            {
              id: expect.stringMatching(/^call_[A-Za-z0-9]{24}$/),
              type: "function",
              function: { name: "get_time", arguments: "{}" },
            },
          ],
        },
        logprobs: null,
        finish_reason: "tool_calls",
      },
    ]);
    expect(completion.usage!.completion_tokens).toBe(2);
  });

  it("calls the first tool when tool_choice is required, and answers in text when auto", async () => {
    const required = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      tools,
      tool_choice: "required",
    });
    expect(required.choices[0]!.message.tool_calls).toMatchObject([
      { type: "function", function: { name: "get_weather", arguments: "{}" } },
    ]);
    const auto = await client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      tools,
      tool_choice: "auto",
    });
    expect(auto.choices[0]).toMatchObject({ message: { content: "[primary] echo: x" }, finish_reason: "stop" });
  });

  it("streams a tool call the SDK's accumulator rebuilds", async () => {
    const stream = client().chat.completions.stream({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(final.choices[0]!.message.tool_calls).toMatchObject([
      { type: "function", function: { name: "get_weather", arguments: "{}" } },
    ]);
  });

  it("answers tool calls with toolArguments, streaming them in pieces that join to the same text", async () => {
    const toolArguments = '{"city":"Oslo","unit":"celsius"}';
    standIn.setBehaviour({ toolArguments });
    const request = {
      model: "gpt-4o-mini",
      messages: [{ role: "user" as const, content: "x" }],
      tools,
      tool_choice: "required" as const,
    };
    const completion = await client().chat.completions.create(request);
    expect(completion.choices[0]!.message.tool_calls).toMatchObject([
      { function: { name: "get_weather", arguments: toolArguments } },
    ]);
    const pieces = (await collect(await client().chat.completions.create({ ...request, stream: true }))).flatMap(
      (chunk) => chunk.choices[0]?.delta.tool_calls?.map((call) => call.function?.arguments ?? "") ?? [],
    );
    expect(pieces.filter(Boolean).length).toBeGreaterThan(2);
    expect(pieces.join("")).toBe(toolArguments);
  });

  it("rejects a tool_choice that names no listed tool", async () => {
    const call = client().chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
      tools,
      tool_choice: { type: "function", function: { name: "missing" } },
    });
    await expect(call).rejects.toMatchObject({ status: 400, param: "tool_choice" });
  });
});

describe("streaming", () => {
  it("streams a role chunk, one chunk per word, a finish chunk, and ends on [DONE]", async () => {
    const stream = await client().chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "stream me please" }],
    });
    const chunks = await collect(stream);

    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "[primary] " },
      { content: "echo: " },
      { content: "stream " },
      { content: "me " },
      { content: "please" },
      {},
    ]);
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual([null, null, null, null, null, null, "stop"]);
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", model: "gpt-4o-mini", system_fingerprint: "fp_standin" });
      expect(chunk).not.toHaveProperty("usage");
    }
  });

  it("adds usage: null to every chunk and a final choices-less usage chunk with include_usage", async () => {
    const stream = await client().chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "count these words" }],
    });
    const chunks = await collect(stream);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
  });

  it("sends text/event-stream bytes that end with data: [DONE]", async () => {
    const response = await fetch(`${standIn.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await response.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = text.split("\n\n").filter(Boolean);
    expect(events.every((event) => event.startsWith("data: "))).toBe(true);
    expect(
      events
        .slice(0, -1)
        .map((event) => (JSON.parse(event.slice(6)) as ChatCompletionChunk).choices[0]!.delta.content ?? "")
        .join(""),
    ).toBe("[primary] echo: hi");
  });

  it("joins to the same text as the non-streaming answer, truncation included", async () => {
    const params = { model: "gpt-4o-mini", max_tokens: 4, messages: [{ role: "user" as const, content: "one two three four" }] };
    const whole = await client().chat.completions.create(params);
    const chunks = await collect(await client().chat.completions.create({ ...params, stream: true }));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("")).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("length");
  });

  it("interleaves the chunks of n choices", async () => {
    const chunks = await collect(
      await client().chat.completions.create({
        model: "gpt-4o-mini",
        n: 2,
        stream: true,
        messages: [{ role: "user", content: "x" }],
      }),
    );
    expect(chunks.slice(0, 4).map((chunk) => chunk.choices[0]!.index)).toEqual([0, 1, 0, 1]);
    for (const index of [0, 1]) {
      const text = chunks
        .flatMap((chunk) => chunk.choices.filter((choice) => choice.index === index))
        .map((choice) => choice.delta.content ?? "")
        .join("");
      expect(text).toBe("[primary] echo: x");
    }
  });

  it("spaces chunks by chunkDelayMs", async () => {
    standIn.setBehaviour({ chunkDelayMs: 40 });
    const started = Date.now();
    const chunks = await collect(
      await client().chat.completions.create({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "a" }] }),
    );
    // role, 3 words, finish and [DONE]: five gaps.
    expect(chunks).toHaveLength(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 40 - 10);
  });

  it("destroys the socket after dropStreamAfterChunks content chunks", async () => {
    standIn.setBehaviour({ dropStreamAfterChunks: 2 });
    const stream = await client().chat.completions.create({
      model: "gpt-4o-mini",
      stream: true,
      messages: [{ role: "user", content: "one two three four" }],
    });
    const received: ChatCompletionChunk[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) received.push(chunk);
      })(),
    ).rejects.toThrow();
    expect(received.map((chunk) => chunk.choices[0]!.delta)).toEqual([
      { role: "assistant", content: "" },
      { content: "[primary] " },
      { content: "echo: " },
    ]);
  });
});

describe("embeddings", () => {
  const norm = (vector: ArrayLike<number>) => Math.sqrt(Array.from(vector).reduce((sum, x) => sum + x * x, 0));

  it("answers OpenAI's shape, the SDK's default base64 decoding to the documented vectors", async () => {
    const response = await client().embeddings.create({
      model: "text-embedding-3-small",
      input: ["hello world", "hello world", "other"],
    });
    expect(response).toMatchObject({
      object: "list",
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 5, total_tokens: 5 },
    });
    expect(response.data.map((item) => [item.object, item.index, item.embedding.length])).toEqual([
      ["embedding", 0, 1536],
      ["embedding", 1, 1536],
      ["embedding", 2, 1536],
    ]);
    expect(Array.from(response.data[0]!.embedding)).toEqual(standInEmbedding("hello world", 1536));
    expect(Array.from(response.data[1]!.embedding)).toEqual(Array.from(response.data[0]!.embedding));
    expect(Array.from(response.data[2]!.embedding)).not.toEqual(Array.from(response.data[0]!.embedding));
    expect(norm(response.data[0]!.embedding)).toBeCloseTo(1, 5);
    expect((standIn.requests[0]!.body as { encoding_format?: string }).encoding_format).toBe("base64");
  });

  it("honours dimensions and float encoding, and embeds token ids", async () => {
    const floats = await client().embeddings.create({
      model: "text-embedding-3-large",
      input: [[1, 2, 3]],
      dimensions: 8,
      encoding_format: "float",
    });
    expect(floats.data[0]!.embedding).toEqual(standInEmbedding([1, 2, 3], 8));
    expect(floats.usage.prompt_tokens).toBe(3);
    const large = await client().embeddings.create({ model: "text-embedding-3-large", input: "x", encoding_format: "float" });
    expect(large.data[0]!.embedding).toHaveLength(3072);
  });

  it("refuses unknown models, chat models, empty input and dimensions on ada-002 the way the API does", async () => {
    await expect(client().embeddings.create({ model: "gpt-4o-mini", input: "x" })).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    await expect(client().embeddings.create({ model: "text-embedding-3-small", input: "" })).rejects.toMatchObject({
      status: 400,
      param: "input",
    });
    await expect(
      client().embeddings.create({ model: "text-embedding-ada-002", input: "x", dimensions: 8 }),
    ).rejects.toMatchObject({ status: 400, param: "dimensions" });
    const wrongMethod = await fetch(`${standIn.url}/embeddings`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(wrongMethod.status).toBe(405);
  });

  it("applies injected failures to embeddings too", async () => {
    standIn.setBehaviour({ failNext: { count: 1, status: 503 } });
    await expect(client().embeddings.create({ model: "text-embedding-3-small", input: "x" })).rejects.toMatchObject({
      status: 503,
    });
  });
});

describe("models", () => {
  it("lists the configured models", async () => {
    const page = await client().models.list();
    expect(page.data).toEqual([
      { id: "gpt-4o-mini", object: "model", created: 1_700_000_000, owned_by: "stand-in" },
      { id: "gpt-4o", object: "model", created: 1_700_000_000, owned_by: "stand-in" },
    ]);
    const model = await client().models.retrieve("gpt-4o");
    expect(model.id).toBe("gpt-4o");
  });

  it("answers an unknown model with 404 model_not_found", async () => {
    const call = client().chat.completions.create({ model: "gpt-nope", messages: [{ role: "user", content: "x" }] });
    await expect(call).rejects.toBeInstanceOf(NotFoundError);
    await expect(call).rejects.toMatchObject({ status: 404, code: "model_not_found", type: "invalid_request_error" });
  });
});

describe("errors", () => {
  it("rejects a wrong key with 401 invalid_api_key", async () => {
    const call = client({ apiKey: "sk-wrong" }).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
    });
    await expect(call).rejects.toBeInstanceOf(AuthenticationError);
    await expect(call).rejects.toMatchObject({
      status: 401,
      error: { message: "Incorrect API key provided", type: "invalid_request_error", param: null, code: "invalid_api_key" },
    });
  });

  it("answers invalid JSON with 400 and still records the raw body", async () => {
    const response = await fetch(`${standIn.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: "invalid_request_error", param: null, code: null } });
    expect(standIn.requests[0]).toMatchObject({ body: undefined, rawBody: "{not json" });
  });

  it("names the offending field of an invalid request", async () => {
    const response = await fetch(`${standIn.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini" }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        message: "Missing required parameter: 'messages'.",
        type: "invalid_request_error",
        param: "messages",
        code: "missing_required_parameter",
      },
    });
  });

  it("surfaces an injected 500 as APIError and recovers on the next request", async () => {
    standIn.setBehaviour({ failNext: { count: 1, status: 500 } });
    const call = client().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    await expect(call).rejects.toBeInstanceOf(APIError);
    await expect(call).rejects.toMatchObject({ status: 500, type: "server_error" });
    const next = await client().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(next.choices[0]!.message.content).toBe("[primary] echo: x");
    expect(standIn.requests).toHaveLength(2);
  });

  it("sends Retry-After with 429, and the SDK waits that long before its retry", async () => {
    standIn.setBehaviour({ failNext: { count: 1, status: 429 } });
    const error = await client()
      .chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).status).toBe(429);
    expect((error as RateLimitError).code).toBe("rate_limit_exceeded");
    expect((error as RateLimitError).headers.get("retry-after")).toBe(String(RETRY_AFTER_SECONDS));

    standIn.reset();
    standIn.setBehaviour({ failNext: { count: 1, status: 429 } });
    const retried = await client({ maxRetries: 1 }).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
    });
    expect(retried.choices[0]!.finish_reason).toBe("stop");
    expect(standIn.requests).toHaveLength(2);
    expect(standIn.requests[1]!.receivedAt - standIn.requests[0]!.receivedAt).toBeGreaterThanOrEqual(
      RETRY_AFTER_SECONDS * 1000 - 50,
    );
  });

  it("fails every request with failAll until it is cleared, GET /models included", async () => {
    standIn.setBehaviour({ failAll: 503 });
    await expect(client().models.list()).rejects.toMatchObject({ status: 503 });
    await expect(
      client().chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toMatchObject({ status: 503 });
    standIn.setBehaviour({});
    expect((await client().models.list()).data.map((m) => m.id)).toEqual(["gpt-4o-mini", "gpt-4o"]);
  });

  it("does not count down the caller's failNext object", async () => {
    const failNext = { count: 1, status: 500 };
    standIn.setBehaviour({ failNext });
    await expect(client().models.list()).rejects.toMatchObject({ status: 500 });
    expect(failNext.count).toBe(1);
    expect(standIn.behaviour.failNext!.count).toBe(0);
  });
});

describe("responses", () => {
  it("answers a Responses request in the API's shape, recording the answer, usage counting instructions and input", async () => {
    const response = await client().responses.create({
      model: "gpt-4o-mini",
      instructions: "be brief",
      input: [{ role: "user", content: "hello there" }],
      metadata: { a: "b" },
    });
    expect(response).toMatchObject({
      object: "response",
      status: "completed",
      model: "gpt-4o-mini",
      instructions: "be brief",
      metadata: { a: "b" },
      output_text: "[primary] echo: hello there",
      usage: { input_tokens: 4, output_tokens: 4, total_tokens: 8 },
    });
    expect(response.id).toMatch(/^resp_/);
    expect(standIn.requests.at(-1)).toMatchObject({ path: "/v1/responses", answer: { id: response.id } });
  });

  it("cuts at max_output_tokens (at least 16, as the API demands) and calls a named function", async () => {
    const long = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
    const cut = await client().responses.create({ model: "gpt-4o-mini", input: long, max_output_tokens: 16 });
    expect(cut).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      usage: { output_tokens: 16 },
    });
    const refused = await client()
      .responses.create({ model: "gpt-4o-mini", input: "x", max_output_tokens: 2 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BadRequestError);

    standIn.setBehaviour({ toolArguments: '{"q":1}' });
    const tool = { type: "function" as const, name: "lookup", parameters: { type: "object" }, strict: false };
    const called = await client().responses.create({
      model: "gpt-4o-mini",
      input: "x",
      tools: [tool],
      tool_choice: { type: "function", name: "lookup" },
    });
    expect(called.output).toEqual([
      {
        type: "function_call",
        id: expect.stringMatching(/^fc_/),
        call_id: expect.stringMatching(/^call_/),
        name: "lookup",
        arguments: '{"q":1}',
        status: "completed",
      },
    ]);
  });

  it("streams events the SDK reassembles into the recorded response, without [DONE]", async () => {
    const stream = client().responses.stream({ model: "gpt-4o", input: "one two three" });
    const sequence: number[] = [];
    for await (const event of stream) sequence.push(event.sequence_number);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe("[primary] echo: one two three");
    expect(final.id).toBe((standIn.requests.at(-1)!.answer as { id: string }).id);
    expect(sequence).toEqual(sequence.map((_, at) => at));
    const raw = await fetch(`${standIn.url}/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", input: "hi", stream: true }),
    });
    const text = await raw.text();
    expect(text).not.toContain("[DONE]");
    expect(text.trimEnd().split("\n\n").at(-1)).toMatch(/^event: response.completed\ndata: /);
  });
});

describe("timing", () => {
  it("holds the headers for headerDelayMs, so a shorter client timeout fires", async () => {
    standIn.setBehaviour({ headerDelayMs: 1_000 });
    const call = client({ timeout: 150 }).chat.completions.create({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "x" }],
    });
    await expect(call).rejects.toBeInstanceOf(APIConnectionTimeoutError);
  });

  it("stalls without answering, records the request, and close() still returns promptly", async () => {
    const stalled = await startOpenAIStandIn();
    stalled.setBehaviour({ stall: true });
    const call = fetch(`${stalled.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [] }),
      signal: AbortSignal.timeout(300),
    });
    await expect(call).rejects.toThrow();
    expect(stalled.requests).toHaveLength(1);

    // A second stalled request stays open; close() must destroy it rather than wait.
    const pending = fetch(`${stalled.url}/models`).catch((error: unknown) => error);
    await expect.poll(() => stalled.requests.length).toBe(2);
    const closingStarted = Date.now();
    await stalled.close();
    expect(Date.now() - closingStarted).toBeLessThan(1_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe("defaults", () => {
  it("needs no key when none is configured and names itself stand-in", async () => {
    const open = await startOpenAIStandIn();
    try {
      const completion = await new OpenAI({ apiKey: "anything", baseURL: open.url, maxRetries: 0 }).chat.completions.create({
        model: "gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(completion.choices[0]!.message.content).toBe("[stand-in] echo: hi");
      expect(completion.usage!.completion_tokens).toBe(countTokens("[stand-in] echo: hi"));
    } finally {
      await open.close();
    }
  });

  it("answers unknown routes and wrong methods the way the API does", async () => {
    const unknown = await fetch(`${standIn.url}/audio/speech`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_KEY}` },
      body: "{}",
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { message: "Invalid URL (POST /v1/audio/speech)" } });
    const wrongMethod = await fetch(`${standIn.url}/chat/completions`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(wrongMethod.status).toBe(405);
  });
});
