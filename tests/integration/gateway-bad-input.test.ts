// Every client error the gateway can answer, and a fuzz run: no malformed request gets a 5xx.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayFixture, eventually, unique } from "../helpers/gateway-fixture";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let server: ServerProcess;
let key: string;
let restricted: string;
const model = unique("sim");
const other = unique("sim-other");

beforeAll(async () => {
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator"),
    deployments: [
      { modelName: model, upstreamModel: "sim" },
      { modelName: other, upstreamModel: "sim" },
    ],
  });
  key = (await fixture.addKey()).key;
  restricted = (await fixture.addKey({ allowedModels: [model] })).key;
  server = await fixture.startServer({ env: { BODY_LIMIT_BYTES: "2048" } });
  await eventually(async () => (await call({ model, messages: [{ role: "user", content: "x" }] })).status === 200);
});
afterAll(() => fixture.close());

interface CallOptions {
  headers?: Record<string, string>;
  auth?: string | null;
  contentType?: string | null;
  path?: string;
}

function call(
  body: unknown,
  { headers = {}, auth = `Bearer ${key}`, contentType = "application/json", path = "/v1/chat/completions" }: CallOptions = {},
) {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(contentType ? { "content-type": contentType } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const valid = () => ({ model, messages: [{ role: "user", content: "hi" }] });

describe("client errors, OpenAI-shaped", () => {
  const cases: Array<[string, () => Promise<Response>, number, Record<string, unknown>]> = [
    ["invalid JSON", () => call("{not json"), 400, { code: "invalid_json" }],
    ["empty body", () => call(""), 400, { type: "invalid_request_error" }],
    ["JSON that is not an object", () => call("[1,2]"), 400, { type: "invalid_request_error" }],
    [
      "missing model",
      () => call({ messages: [{ role: "user", content: "x" }] }),
      400,
      { param: "model", code: "missing_required_parameter" },
    ],
    ["missing messages", () => call({ model }), 400, { param: "messages" }],
    ["empty messages", () => call({ model, messages: [] }), 400, { param: "messages" }],
    ["unknown role", () => call({ model, messages: [{ role: "wizard", content: "x" }] }), 400, { param: "messages[0].role" }],
    ["temperature out of range", () => call({ ...valid(), temperature: 3 }), 400, { param: "temperature" }],
    ["n not an integer", () => call({ ...valid(), n: 1.5 }), 400, { param: "n" }],
    ["stop with five sequences", () => call({ ...valid(), stop: ["a", "b", "c", "d", "e"] }), 400, { param: "stop" }],
    ["stream not a boolean", () => call({ ...valid(), stream: "yes" }), 400, { param: "stream" }],
    [
      "tool without a name",
      () => call({ ...valid(), tools: [{ type: "function", function: {} }] }),
      400,
      { param: "tools[0].function.name" },
    ],
    ["unknown model", () => call({ ...valid(), model: "no-such-model" }), 404, { code: "model_not_found", param: "model" }],
    ["no key", () => call(valid(), { auth: null }), 401, { code: "missing_api_key" }],
    ["wrong key", () => call(valid(), { auth: "Bearer ak-wrong" }), 401, { code: "invalid_api_key" }],
    ["malformed authorization", () => call(valid(), { auth: "Basic abc" }), 401, { code: "invalid_api_key" }],
    [
      "model not allowed for the key",
      () => call({ ...valid(), model: other }, { auth: `Bearer ${restricted}` }),
      403,
      { code: "model_not_allowed" },
    ],
    ["body over the limit", () => call({ ...valid(), padding: "x".repeat(4096) }), 413, { code: "request_too_large" }],
    [
      "wrong content type",
      () => call(JSON.stringify(valid()), { contentType: "text/plain" }),
      415,
      { code: "unsupported_media_type" },
    ],
    ["no content type", () => call(JSON.stringify(valid()), { contentType: null }), 415, { code: "unsupported_media_type" }],
    [
      "form content type",
      () => call("a=b", { contentType: "application/x-www-form-urlencoded" }),
      415,
      { code: "unsupported_media_type" },
    ],
  ];

  it.each(cases)("%s", async (_, send, status, expected) => {
    const response = await send();
    expect(response.status).toBe(status);
    const body = await response.json();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(typeof body.error.message).toBe("string");
    expect(body.error).toMatchObject(expected);
    expect(JSON.stringify(body)).not.toContain(key);
  });

  const responses = (body: unknown, options: CallOptions = {}) => call(body, { path: "/v1/responses", ...options });
  const completions = (body: unknown, options: CallOptions = {}) => call(body, { path: "/api/v1/completions", ...options });
  const translatedCases: typeof cases = [
    ["responses: invalid JSON", () => responses("{not json"), 400, { code: "invalid_json" }],
    ["responses: missing model", () => responses({ input: "x" }), 400, { param: "model", code: "missing_required_parameter" }],
    ["responses: missing input", () => responses({ model }), 400, { param: "input", code: "missing_required_parameter" }],
    ["responses: empty input", () => responses({ model, input: [] }), 400, { param: "input" }],
    ["responses: input a number", () => responses({ model, input: 5 }), 400, { param: "input" }],
    [
      "responses: unknown role",
      () => responses({ model, input: [{ role: "wizard", content: "x" }] }),
      400,
      { param: "input[0].role" },
    ],
    [
      "responses: item reference",
      () => responses({ model, input: [{ type: "item_reference", id: "msg_1" }] }),
      400,
      { param: "input[0].type" },
    ],
    [
      "responses: unknown content part",
      () => responses({ model, input: [{ role: "user", content: [{ type: "input_audio" }] }] }),
      400,
      { param: "input[0].content[0].type" },
    ],
    [
      "responses: function call without call_id",
      () => responses({ model, input: [{ type: "function_call", name: "f", arguments: "{}" }] }),
      400,
      { param: "input[0].call_id" },
    ],
    [
      "responses: hosted tool",
      () => responses({ model, input: "x", tools: [{ type: "web_search" }] }),
      400,
      { param: "tools[0].type" },
    ],
    [
      "responses: tool with a bad name",
      () => responses({ model, input: "x", tools: [{ type: "function", name: "has space" }] }),
      400,
      { param: "tools[0].name" },
    ],
    [
      "responses: unknown text format",
      () => responses({ model, input: "x", text: { format: { type: "yaml" } } }),
      400,
      { param: "text.format.type" },
    ],
    [
      "responses: json_schema without schema",
      () => responses({ model, input: "x", text: { format: { type: "json_schema", name: "a" } } }),
      400,
      { param: "text.format.schema" },
    ],
    [
      "responses: max_output_tokens zero",
      () => responses({ model, input: "x", max_output_tokens: 0 }),
      400,
      { param: "max_output_tokens" },
    ],
    [
      "responses: temperature out of range",
      () => responses({ model, input: "x", temperature: 3 }),
      400,
      { param: "temperature" },
    ],
    ["responses: metadata not strings", () => responses({ model, input: "x", metadata: { a: 1 } }), 400, { param: "metadata.a" }],
    [
      "responses: previous_response_id",
      () => responses({ model, input: "x", previous_response_id: "resp_1" }),
      400,
      { param: "previous_response_id", code: "unsupported_parameter" },
    ],
    [
      "responses: unknown model",
      () => responses({ model: "no-such-model", input: "x" }),
      404,
      { code: "model_not_found", param: "model" },
    ],
    [
      "responses: model not allowed",
      () => responses({ model: other, input: "x" }, { auth: `Bearer ${restricted}` }),
      403,
      { code: "model_not_allowed" },
    ],
    ["responses: no key", () => responses({ model, input: "x" }, { auth: null }), 401, { code: "missing_api_key" }],
    ["responses: body over the limit", () => responses({ model, input: "x".repeat(4096) }), 413, { code: "request_too_large" }],
    [
      "responses: retrieve",
      () => fetch(`${server.url}/v1/responses/resp_1`, { headers: { authorization: `Bearer ${key}` } }),
      404,
      { code: "response_not_found" },
    ],
    ["completions: missing prompt", () => completions({ model }), 400, { param: "prompt", code: "missing_required_parameter" }],
    ["completions: token array", () => completions({ model, prompt: [1, 2, 3] }), 400, { param: "prompt[0]" }],
    [
      "completions: several prompts streamed",
      () => completions({ model, prompt: ["a", "b"], stream: true }),
      400,
      { param: "stream", code: "unsupported_value" },
    ],
    [
      "completions: too many prompts",
      () => completions({ model, prompt: Array.from({ length: 33 }, () => "p") }),
      400,
      { param: "prompt", code: "array_above_max_length" },
    ],
    [
      "completions: several prompts, one a token array",
      () => completions({ model, prompt: ["a", [1, 2]] }),
      400,
      { param: "prompt[1]" },
    ],
    [
      "completions: several prompts, unknown model",
      () => completions({ model: "no-such-model", prompt: ["a", "b"] }),
      404,
      { code: "model_not_found" },
    ],
    [
      "completions: echo",
      () => completions({ model, prompt: "x", echo: true }),
      400,
      { param: "echo", code: "unsupported_value" },
    ],
    ["completions: best_of", () => completions({ model, prompt: "x", best_of: 2 }), 400, { param: "best_of" }],
    ["completions: logprobs", () => completions({ model, prompt: "x", logprobs: 1 }), 400, { param: "logprobs" }],
    [
      "completions: max_tokens not an integer",
      () => completions({ model, prompt: "x", max_tokens: 1.5 }),
      400,
      { param: "max_tokens" },
    ],
    [
      "completions: stop with five sequences",
      () => completions({ model, prompt: "x", stop: ["a", "b", "c", "d", "e"] }),
      400,
      { param: "stop" },
    ],
    ["completions: unknown model", () => completions({ model: "no-such-model", prompt: "x" }), 404, { code: "model_not_found" }],
    [
      "completions: wrong content type",
      () => completions(JSON.stringify({ model, prompt: "x" }), { contentType: "text/plain" }),
      415,
      { code: "unsupported_media_type" },
    ],
  ];

  it.each(translatedCases)("%s", async (_, send, status, expected) => {
    const response = await send();
    expect(response.status).toBe(status);
    const body = await response.json();
    expect(Object.keys(body)).toEqual(["error"]);
    expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(body.error).toMatchObject(expected);
    expect(JSON.stringify(body)).not.toContain(key);
  });

  it("answers unknown API paths with an OpenAI-style 404", async () => {
    const response = await fetch(`${server.url}/api/v1/audio/speech`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe("unknown_url");
  });
});

describe("fuzz", () => {
  it("answers thousands of malformed bodies with 4xx JSON errors, never a 5xx", async () => {
    const nearValid = fc.record(
      {
        model: fc.oneof(fc.constant(model), fc.string(), fc.integer(), fc.constant(null)),
        messages: fc.oneof(
          fc.array(
            fc.record(
              {
                role: fc.oneof(fc.constantFrom("system", "user", "assistant", "tool", "developer", "function"), fc.string()),
                content: fc.oneof(fc.string(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 }), fc.integer()),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 4 },
          ),
          fc.anything(),
        ),
        temperature: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
        max_tokens: fc.oneof(fc.integer(), fc.double(), fc.string()),
        n: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.string()),
        stop: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 6 }), fc.integer()),
        stream: fc.oneof(fc.boolean(), fc.string()),
        tools: fc.anything(),
        tool_choice: fc.anything(),
        response_format: fc.anything(),
        stream_options: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      { weight: 5, arbitrary: nearValid.map((value) => JSON.stringify(value)) },
      { weight: 2, arbitrary: fc.json() },
      {
        weight: 1,
        arbitrary: fc
          .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
          .map((extra) => JSON.stringify({ ...extra, model, messages: [{ role: "user", content: "fuzz" }] })),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")) },
    );
    const samples = fc.sample(body, { numRuns: 3_000, seed: 20261128 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 50) {
      const batch = samples.slice(i, i + 50);
      const responses = await Promise.all(batch.map((b) => call(b, { headers: { "x-agenticorp-cache": "bypass" } })));
      for (const [j, response] of responses.entries()) {
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const text = await response.text();
        if (response.status >= 500) throw new Error(`5xx for body ${JSON.stringify(batch[j])}: ${text}`);
        if (response.status >= 400) expect(JSON.parse(text).error.message).toBeTypeOf("string");
      }
    }
    expect([...statuses.keys()].every((s) => s < 500)).toBe(true);
    // The generator must reach both valid and invalid requests, or the run proves little.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  }, 180_000);

  // Near-valid bodies for the routes that translate to chat: every field a client may send, filled
  // with right and wrong shapes; none may reach a 5xx.
  const anyOf = <T>(...values: fc.Arbitrary<T>[]) => fc.oneof(...values, fc.anything());
  const translatedBodies: Record<string, [fc.Arbitrary<Record<string, unknown>>, Record<string, unknown>]> = {
    "/v1/responses": [
      fc.record(
        {
          model: fc.oneof(fc.constant(model), fc.string()),
          input: anyOf<unknown>(
            fc.string(),
            fc.array(
              fc.record(
                {
                  type: fc.constantFrom("message", "function_call", "function_call_output", "item_reference", "reasoning"),
                  role: fc.constantFrom("user", "assistant", "system", "developer", "tool"),
                  content: anyOf<unknown>(
                    fc.string(),
                    fc.array(
                      fc.record(
                        {
                          type: fc.constantFrom("input_text", "output_text", "input_image", "input_file", "refusal"),
                          text: fc.string(),
                          image_url: fc.string(),
                        },
                        { requiredKeys: [] },
                      ),
                      { maxLength: 2 },
                    ),
                  ),
                  call_id: fc.string(),
                  name: fc.string(),
                  arguments: fc.string(),
                  output: anyOf<unknown>(fc.string()),
                },
                { requiredKeys: [] },
              ),
              { maxLength: 3 },
            ),
          ),
          instructions: anyOf<unknown>(fc.string()),
          tools: anyOf<unknown>(
            fc.array(
              fc.record(
                { type: fc.constantFrom("function", "web_search"), name: fc.string(), parameters: fc.anything() },
                { requiredKeys: [] },
              ),
              { maxLength: 2 },
            ),
          ),
          tool_choice: anyOf<unknown>(
            fc.constantFrom("auto", "none", "required"),
            fc.record({ type: fc.constant("function"), name: fc.string() }),
          ),
          text: anyOf<unknown>(
            fc.record({
              format: fc.record(
                { type: fc.constantFrom("text", "json_object", "json_schema"), name: fc.string(), schema: fc.anything() },
                { requiredKeys: [] },
              ),
            }),
          ),
          max_output_tokens: anyOf<unknown>(fc.integer({ min: -2, max: 100 })),
          metadata: fc.anything(),
          stream: anyOf<unknown>(fc.boolean()),
          store: fc.anything(),
          previous_response_id: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      { model, input: "fuzz" },
    ],
    "/v1/completions": [
      fc.record(
        {
          model: fc.oneof(fc.constant(model), fc.string()),
          prompt: anyOf<unknown>(fc.string(), fc.array(fc.string(), { maxLength: 2 }), fc.array(fc.integer(), { maxLength: 3 })),
          max_tokens: anyOf<unknown>(fc.integer({ min: -2, max: 50 })),
          n: anyOf<unknown>(fc.integer({ min: -1, max: 3 })),
          stop: anyOf<unknown>(fc.string(), fc.array(fc.string(), { maxLength: 5 })),
          echo: fc.anything(),
          best_of: fc.anything(),
          logprobs: fc.anything(),
          suffix: fc.anything(),
          stream: anyOf<unknown>(fc.boolean()),
          stream_options: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      { model, prompt: "fuzz" },
    ],
    "/v1/embeddings": [
      fc.record(
        {
          model: fc.oneof(fc.constant(model), fc.string()),
          input: anyOf<unknown>(
            fc.string(),
            fc.array(fc.string(), { maxLength: 3 }),
            fc.array(fc.integer({ min: -2, max: 100 }), { maxLength: 3 }),
            fc.array(fc.array(fc.integer(), { maxLength: 2 }), { maxLength: 2 }),
          ),
          dimensions: anyOf<unknown>(fc.integer({ min: -2, max: 5_000 })),
          encoding_format: anyOf<unknown>(fc.constantFrom("float", "base64", "int8")),
          user: fc.anything(),
          stream: fc.anything(),
        },
        { requiredKeys: [] },
      ),
      { model, input: "fuzz" },
    ],
  };

  it.each(Object.entries(translatedBodies))(
    "answers malformed bodies on %s with 4xx JSON errors, never a 5xx",
    async (path, [nearValid, valid]) => {
      const body = fc.oneof(
        { weight: 3, arbitrary: nearValid },
        // A valid request with one field from the near-valid set, so that valid requests occur too.
        {
          weight: 2,
          arbitrary: nearValid.map((fields) => ({ ...valid, ...Object.fromEntries(Object.entries(fields).slice(0, 1)) })),
        },
      );
      const samples = fc.sample(
        body.map((value) => JSON.stringify(value)),
        { numRuns: 600, seed: 20261204 },
      );
      const statuses = new Map<number, number>();
      for (let i = 0; i < samples.length; i += 50) {
        const batch = samples.slice(i, i + 50);
        const responses = await Promise.all(batch.map((b) => call(b, { path, headers: { "x-agenticorp-cache": "bypass" } })));
        for (const [j, response] of responses.entries()) {
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const text = await response.text();
          if (response.status >= 500) throw new Error(`5xx for body ${batch[j]}: ${text}`);
          if (response.status >= 400)
            expect(Object.keys(JSON.parse(text).error).sort()).toEqual(["code", "message", "param", "type"]);
        }
      }
      expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    },
    120_000,
  );
});

// Anthropic's Messages API answers in Anthropic's shape, key failures from the onRequest hook included.
function callMessages(
  body: unknown,
  {
    path = "/v1/messages",
    headers = {},
    apiKey = key,
    contentType = "application/json",
  }: { path?: string; headers?: Record<string, string>; apiKey?: string | null; contentType?: string | null } = {},
) {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: {
      "anthropic-version": "2023-06-01",
      ...(apiKey ? { "x-api-key": apiKey } : {}),
      ...(contentType ? { "content-type": contentType } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const validMessages = () => ({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] });

function expectAnthropicError(body: Record<string, unknown>, type: string, requestId: string | null) {
  expect(Object.keys(body).sort()).toEqual(["error", "request_id", "type"]);
  expect(body.type).toBe("error");
  expect(body.request_id).toBe(requestId);
  const error = body.error as Record<string, unknown>;
  expect(Object.keys(error).sort()).toEqual(["message", "type"]);
  expect(error.type).toBe(type);
  expect(typeof error.message).toBe("string");
}

describe("client errors on /v1/messages, Anthropic-shaped", () => {
  const cases: Array<[string, () => Promise<Response>, number, string, string?]> = [
    ["invalid JSON", () => callMessages("{not json"), 400, "invalid_request_error"],
    ["JSON that is not an object", () => callMessages("[1]"), 400, "invalid_request_error"],
    [
      "missing max_tokens",
      () => callMessages({ model, messages: [{ role: "user", content: "x" }] }),
      400,
      "invalid_request_error",
      "max_tokens",
    ],
    ["max_tokens zero", () => callMessages({ ...validMessages(), max_tokens: 0 }), 400, "invalid_request_error", "max_tokens"],
    ["missing messages", () => callMessages({ model, max_tokens: 5 }), 400, "invalid_request_error", "messages"],
    ["empty messages", () => callMessages({ ...validMessages(), messages: [] }), 400, "invalid_request_error", "messages"],
    [
      "unknown role",
      () => callMessages({ ...validMessages(), messages: [{ role: "tool", content: "x" }] }),
      400,
      "invalid_request_error",
      "messages[0].role",
    ],
    [
      "unsupported block type",
      () => callMessages({ ...validMessages(), messages: [{ role: "user", content: [{ type: "document", source: {} }] }] }),
      400,
      "invalid_request_error",
      "unsupported content block",
    ],
    [
      "image from the Files API",
      () =>
        callMessages({
          ...validMessages(),
          messages: [{ role: "user", content: [{ type: "image", source: { type: "file", file_id: "f" } }] }],
        }),
      400,
      "invalid_request_error",
      "unsupported image source",
    ],
    [
      "image inside a tool result",
      () =>
        callMessages({
          ...validMessages(),
          messages: [
            {
              role: "user",
              content: [
                { type: "tool_result", tool_use_id: "t", content: [{ type: "image", source: { type: "url", url: "http://x" } }] },
              ],
            },
          ],
        }),
      400,
      "invalid_request_error",
      "tool_result content",
    ],
    [
      "server tool",
      () => callMessages({ ...validMessages(), tools: [{ type: "web_search_20250305", name: "web_search" }] }),
      400,
      "invalid_request_error",
      "tools[0]",
    ],
    [
      "unknown tool_choice",
      () => callMessages({ ...validMessages(), tool_choice: { type: "sometimes" } }),
      400,
      "invalid_request_error",
      "tool_choice",
    ],
    [
      "temperature above 1",
      () => callMessages({ ...validMessages(), temperature: 1.5 }),
      400,
      "invalid_request_error",
      "temperature",
    ],
    ["top_k negative", () => callMessages({ ...validMessages(), top_k: -1 }), 400, "invalid_request_error", "top_k"],
    ["stream not a boolean", () => callMessages({ ...validMessages(), stream: "yes" }), 400, "invalid_request_error", "stream"],
    ["unknown model", () => callMessages({ ...validMessages(), model: "no-such-model" }), 404, "not_found_error"],
    ["no key", () => callMessages(validMessages(), { apiKey: null }), 401, "authentication_error"],
    ["wrong key", () => callMessages(validMessages(), { apiKey: "ak-wrong" }), 401, "authentication_error"],
    [
      "model not allowed for the key",
      () => callMessages({ ...validMessages(), model: other }, { apiKey: restricted }),
      403,
      "permission_error",
    ],
    ["body over the limit", () => callMessages({ ...validMessages(), padding: "x".repeat(4096) }), 413, "invalid_request_error"],
    [
      "wrong content type",
      () => callMessages(JSON.stringify(validMessages()), { contentType: "text/plain" }),
      415,
      "invalid_request_error",
    ],
    [
      "count_tokens without messages",
      () => callMessages({ model }, { path: "/v1/messages/count_tokens" }),
      400,
      "invalid_request_error",
      "messages",
    ],
    [
      "count_tokens of an unknown model",
      () =>
        callMessages(
          { model: "no-such-model", messages: [{ role: "user", content: "x" }] },
          { path: "/api/v1/messages/count_tokens" },
        ),
      404,
      "not_found_error",
    ],
    [
      "count_tokens with a wrong key",
      () => callMessages({ model, messages: [] }, { path: "/v1/messages/count_tokens", apiKey: "ak-wrong" }),
      401,
      "authentication_error",
    ],
  ];

  it.each(cases)("%s", async (_, send, status, type, mentions) => {
    const response = await send();
    expect(response.status).toBe(status);
    const body = await response.json();
    expectAnthropicError(body, type, response.headers.get("x-request-id"));
    if (mentions) expect(body.error.message).toContain(mentions);
    expect(JSON.stringify(body)).not.toContain(key);
  });

  it("answers thousands of malformed Messages bodies with Anthropic-shaped 4xx, never a 5xx", async () => {
    const block = fc.oneof(
      fc.record({ type: fc.constant("text"), text: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }),
      fc.record({ type: fc.constant("image"), source: fc.anything() }, { requiredKeys: [] }),
      fc.record(
        { type: fc.constant("tool_use"), id: fc.string(), name: fc.string(), input: fc.anything() },
        { requiredKeys: [] },
      ),
      fc.record(
        { type: fc.constant("tool_result"), tool_use_id: fc.string(), content: fc.anything(), is_error: fc.anything() },
        { requiredKeys: [] },
      ),
      fc.record({ type: fc.string(), text: fc.string() }, { requiredKeys: [] }),
    );
    const nearValid = fc.record(
      {
        model: fc.oneof(fc.constant(model), fc.string(), fc.integer()),
        max_tokens: fc.oneof(fc.integer({ min: -2, max: 64 }), fc.double(), fc.string()),
        messages: fc.oneof(
          fc.array(
            fc.record(
              {
                role: fc.oneof(fc.constantFrom("user", "assistant", "system"), fc.string()),
                content: fc.oneof(fc.string(), fc.array(block, { maxLength: 3 }), fc.integer()),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 3 },
          ),
          fc.anything(),
        ),
        system: fc.oneof(fc.string(), fc.array(block, { maxLength: 2 }), fc.anything()),
        tools: fc.oneof(
          fc.array(fc.record({ name: fc.string(), input_schema: fc.anything(), type: fc.anything() }, { requiredKeys: [] }), {
            maxLength: 2,
          }),
          fc.anything(),
        ),
        tool_choice: fc.oneof(
          fc.record({ type: fc.constantFrom("auto", "any", "tool", "none"), name: fc.string() }, { requiredKeys: [] }),
          fc.anything(),
        ),
        stop_sequences: fc.oneof(fc.array(fc.string(), { maxLength: 6 }), fc.anything()),
        temperature: fc.oneof(fc.double(), fc.string()),
        top_k: fc.oneof(fc.integer(), fc.string()),
        metadata: fc.anything(),
        stream: fc.oneof(fc.constant(false), fc.string()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      { weight: 6, arbitrary: nearValid.map((value) => JSON.stringify(value)) },
      {
        weight: 2,
        arbitrary: fc
          .record({
            messages: fc.array(fc.record({ role: fc.constant("user"), content: fc.array(block, { maxLength: 3 }) }), {
              minLength: 1,
              maxLength: 2,
            }),
          })
          .map((value) => JSON.stringify({ ...validMessages(), ...value })),
      },
      { weight: 1, arbitrary: fc.json() },
      { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
    );
    const samples = fc.sample(body, { numRuns: 1_500, seed: 20261204 });
    const statuses = new Map<number, number>();
    for (let i = 0; i < samples.length; i += 50) {
      const batch = samples.slice(i, i + 50);
      const responses = await Promise.all(batch.map((b) => callMessages(b, { headers: { "x-agenticorp-cache": "bypass" } })));
      for (const [j, response] of responses.entries()) {
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const text = await response.text();
        if (response.status >= 500) throw new Error(`5xx for body ${JSON.stringify(batch[j])}: ${text}`);
        if (response.status >= 400)
          expectAnthropicError(
            JSON.parse(text),
            response.status === 404 ? "not_found_error" : "invalid_request_error",
            response.headers.get("x-request-id"),
          );
      }
    }
    expect(statuses.get(400) ?? 0).toBeGreaterThan(300);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
