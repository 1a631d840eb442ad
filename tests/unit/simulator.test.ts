// The built-in simulator provider: it behaves like a model (tools, response formats, n, stop,
// max_tokens, usage, streaming, embeddings), deterministically from the request, with latency,
// token rate, error injection and cancellation through the call's signal.
import Ajv from "ajv";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import type { CreateEmbeddingResponse } from "openai/resources/embeddings";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { SimulatorProvider, simulatorSettingsSchema, type SimulatorSettings } from "../../lib/data-plane/providers/simulator";
import { Cancellation } from "../../lib/data-plane/providers/cancellation";
import { UpstreamFailure, type UpstreamCall } from "../../lib/data-plane/providers/types";

const simulator = (settings: Partial<SimulatorSettings> = {}) => new SimulatorProvider(simulatorSettingsSchema.parse(settings));
const call = (content: string, extra: Record<string, unknown> = {}, signal = new Cancellation()): UpstreamCall => ({
  body: { model: "sim", messages: [{ role: "user", content }], ...extra },
  signal,
});

type Completion = {
  choices: Array<{ index: number; message: { content: string }; finish_reason: string }>;
  usage: Record<string, number>;
};

describe("SimulatorProvider", () => {
  it("answers the same prompt with the same text and different prompts with different text", async () => {
    const provider = simulator();
    const first = (await provider.complete(call("what is a lease?"))) as unknown as Completion;
    const again = (await provider.complete(call("what is a lease?"))) as unknown as Completion;
    const other = (await provider.complete(call("what is a fencing token?"))) as unknown as Completion;
    expect(first.choices[0]!.message.content).toBe(again.choices[0]!.message.content);
    expect(first.choices[0]!.message.content).not.toBe(other.choices[0]!.message.content);
    expect(first.choices[0]!.message.content.split(" ")).toHaveLength(24);
    expect(new Set(first.choices[0]!.message.content.split(" ")).size).toBeGreaterThan(5);
    expect(first.choices[0]!.finish_reason).toBe("stop");
  });

  it("stops at max_tokens with finish_reason length, answers n choices, and adds up usage", async () => {
    const answer = (await simulator({ answerWords: 30 }).complete(
      call("hello", { max_tokens: 5, n: 3 }),
    )) as unknown as Completion;
    expect(answer.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const choice of answer.choices) {
      expect(choice.message.content.split(" ")).toHaveLength(5);
      expect(choice.finish_reason).toBe("length");
    }
    expect(answer.usage.completion_tokens).toBe(15);
    expect(answer.usage.total_tokens).toBe(answer.usage.prompt_tokens! + 15);
  });

  it("streams the same words at the configured token rate, then [DONE]", async () => {
    const provider = simulator({ answerWords: 10, tokensPerSecond: 100 });
    const started = performance.now();
    const events: string[] = [];
    for await (const data of await provider.stream(call("stream it", { stream_options: { include_usage: true } })))
      events.push(data);
    const elapsed = performance.now() - started;
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string } }>; usage?: { completion_tokens: number } });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    const whole = (await provider.complete(call("stream it"))) as unknown as Completion;
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(10);
    expect(elapsed).toBeGreaterThanOrEqual(90);
  });

  it("fails the configured share of calls with a retryable server error", async () => {
    const provider = simulator({ errorRate: 0.3 });
    const outcomes = await Promise.all(
      Array.from({ length: 2_000 }, () =>
        provider.complete(call("x")).then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    );
    const failures = outcomes.filter((o) => o !== null);
    expect(failures.length).toBeGreaterThan(2_000 * 0.25);
    expect(failures.length).toBeLessThan(2_000 * 0.35);
    expect(failures[0]).toBeInstanceOf(UpstreamFailure);
    expect((failures[0] as UpstreamFailure).retryable).toBe(true);
  });

  it("waits a log-normal latency around the configured median and 99th percentile", async () => {
    // The waits are recorded, not timed: 400 concurrent calls on a loaded machine measure the machine.
    const durations: number[] = [];
    const provider = new SimulatorProvider(simulatorSettingsSchema.parse({ latencyMs: { median: 20, p99: 60 } }), async (ms) => {
      durations.push(ms);
    });
    await Promise.all(Array.from({ length: 400 }, () => provider.complete(call("x"))));
    expect(durations).toHaveLength(400);
    durations.sort((a, b) => a - b);
    expect(durations[200]!).toBeGreaterThan(15);
    expect(durations[200]!).toBeLessThan(45);
    expect(durations[396]!).toBeGreaterThan(35);
  });

  it("really waits its latency", async () => {
    const started = performance.now();
    await simulator({ latencyMs: { median: 60, p99: 60 } }).complete(call("x"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });

  it("gives up a waiting call when it is cancelled, with the cancellation's reason", async () => {
    const cancellation = new Cancellation();
    const pending = simulator({ latencyMs: { median: 5_000, p99: 5_000 } }).complete(call("x", {}, cancellation));
    cancellation.cancel(new UpstreamFailure("timeout_total", "client went away"));
    await expect(pending).rejects.toMatchObject({ reason: "timeout_total", message: "client went away" });
  });
});

// ---- Behaving like a model ----------------------------------------------------------------------

const draft07 = addFormats(new Ajv({ strict: false }));
const draft2020 = addFormats(new Ajv2020({ strict: false }));
const validates = (schema: Record<string, unknown>, value: unknown) => {
  const validate = (((schema.$schema as string | undefined) ?? "").includes("2020") ? draft2020 : draft07).compile(schema);
  const ok = validate(value);
  if (!ok) throw new Error(`${JSON.stringify(value)} does not validate: ${draft07.errorsText(validate.errors)}`);
  return ok;
};

const chat = async (body: Record<string, unknown>, settings: Partial<SimulatorSettings> = {}) =>
  (await simulator(settings).complete({
    body: { model: "sim", ...body },
    signal: new Cancellation(),
  })) as unknown as ChatCompletion;

async function streamed(body: Record<string, unknown>, settings: Partial<SimulatorSettings> = {}) {
  const events: string[] = [];
  for await (const data of await simulator(settings).stream({
    body: { model: "sim", stream: true, ...body },
    signal: new Cancellation(),
  }))
    events.push(data);
  expect(events.at(-1)).toBe("[DONE]");
  return events.slice(0, -1).map((event) => JSON.parse(event) as ChatCompletionChunk);
}

const user = (content: string) => [{ role: "user", content }];

const weatherParameters = {
  type: "object",
  properties: {
    city: { type: "string" },
    unit: { type: "string", enum: ["celsius", "fahrenheit"] },
    days: { type: "integer", minimum: 1, maximum: 7 },
  },
  required: ["city", "unit"],
  additionalProperties: false,
};
const weatherTool = {
  type: "function",
  function: { name: "get_weather", description: "Current weather for a city", parameters: weatherParameters },
};
const timeParameters = z.toJSONSchema(z.object({ zone: z.string(), at: z.iso.datetime().nullable() })) as Record<string, unknown>;
const timeTool = { type: "function", function: { name: "current_time", parameters: timeParameters } };
// LangChain (zod-to-json-schema) style: the whole schema behind a $ref into definitions.
const planParameters = {
  $ref: "#/definitions/Plan",
  definitions: {
    Plan: {
      type: "object",
      properties: { steps: { type: "array", items: { $ref: "#/definitions/Step" }, minItems: 1 } },
      required: ["steps"],
      additionalProperties: false,
    },
    Step: {
      type: "object",
      properties: { title: { type: "string" }, minutes: { anyOf: [{ type: "number", minimum: 0 }, { type: "null" }] } },
      required: ["title", "minutes"],
      additionalProperties: false,
    },
  },
  $schema: "http://json-schema.org/draft-07/schema#",
};
const planTool = {
  type: "function",
  function: { name: "extract_plan", description: "Extract the plan", parameters: planParameters },
};
const parametersOf: Record<string, Record<string, unknown>> = {
  get_weather: weatherParameters,
  current_time: timeParameters,
  extract_plan: planParameters,
};

function expectToolCall(completion: ChatCompletion, names: string[]) {
  const [choice] = completion.choices;
  expect(choice!.finish_reason).toBe("tool_calls");
  expect(choice!.message.content).toBeNull();
  const calls = choice!.message.tool_calls!;
  expect(calls.map((c) => (c.type === "function" ? c.function.name : c.type))).toEqual(names);
  for (const call of calls) {
    expect(call.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
    if (call.type !== "function") throw new Error("not a function call");
    expect(validates(parametersOf[call.function.name]!, JSON.parse(call.function.arguments))).toBe(true);
  }
  return calls;
}

describe("SimulatorProvider tools", () => {
  it("tool_choice required calls the tool the user asks for, with arguments valid against its schema", async () => {
    expectToolCall(
      await chat({ messages: user("What's the weather in Paris?"), tools: [timeTool, weatherTool], tool_choice: "required" }),
      ["get_weather"],
    );
  });

  it("tool_choice required calls the first tool when none is asked for", async () => {
    expectToolCall(await chat({ messages: user("hello"), tools: [timeTool, weatherTool], tool_choice: "required" }), [
      "current_time",
    ]);
  });

  it("a named tool_choice calls exactly that tool, through $ref and definitions", async () => {
    const completion = await chat({
      messages: user("What's the weather?"),
      tools: [weatherTool, planTool],
      tool_choice: { type: "function", function: { name: "extract_plan" } },
    });
    expectToolCall(completion, ["extract_plan"]);
  });

  it("auto calls a tool the last user message asks for, and answers text otherwise", async () => {
    expectToolCall(
      await chat({ messages: user("Is the WEATHER nice in Oslo?"), tools: [weatherTool, timeTool], tool_choice: "auto" }),
      ["get_weather"],
    );
    expectToolCall(await chat({ messages: user("please use current_time"), tools: [weatherTool, timeTool] }), ["current_time"]);
    const plain = await chat({ messages: user("tell me a story"), tools: [weatherTool, timeTool], tool_choice: "auto" });
    expect(plain.choices[0]).toMatchObject({ finish_reason: "stop", message: { role: "assistant", refusal: null } });
    expect(plain.choices[0]!.message.content).toEqual(expect.any(String));
    expect(plain.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it("auto answers in text with the tool's result once it was called, so an agent loop ends", async () => {
    const first = await chat({ messages: user("weather in Paris?"), tools: [weatherTool] });
    const [call] = expectToolCall(first, ["get_weather"]);
    const messages = [
      ...user("weather in Paris?"),
      first.choices[0]!.message,
      { role: "tool", tool_call_id: call!.id, content: '{"degrees":21}' },
    ];
    const second = await chat({ messages, tools: [weatherTool], tool_choice: "auto" });
    expect(second.choices[0]!.finish_reason).toBe("stop");
    expect(second.choices[0]!.message.content).toBe('get_weather returned: {"degrees":21}');
  });

  it("tool_choice none never calls a tool", async () => {
    const completion = await chat({ messages: user("weather in Paris?"), tools: [weatherTool], tool_choice: "none" });
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expect(completion.choices[0]!.message.tool_calls).toBeUndefined();
  });

  it("calls every asked-for tool in parallel unless parallel_tool_calls is false", async () => {
    const both = await chat({
      messages: user("the weather, and the time there"),
      tools: [weatherTool, timeTool],
      tool_choice: "required",
    });
    const calls = expectToolCall(both, ["get_weather", "current_time"]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expectToolCall(
      await chat({
        messages: user("the weather, and the time there"),
        tools: [weatherTool, timeTool],
        parallel_tool_calls: false,
      }),
      ["get_weather"],
    );
  });

  it("answers the same request with the same tool call", async () => {
    const body = { messages: user("weather?"), tools: [weatherTool], tool_choice: "required" };
    expect((await chat(body)).choices).toEqual((await chat(body)).choices);
  });
});

describe("SimulatorProvider response formats", () => {
  const treeSchema = (() => {
    const node: z.ZodType = z.lazy(() => z.object({ label: z.string(), children: z.array(node) }));
    return z.toJSONSchema(z.object({ root: node, tags: z.array(z.enum(["a", "b"])).min(1) })) as Record<string, unknown>;
  })();

  it.each([
    ["a flat strict schema", weatherParameters, true],
    ["$ref into definitions", planParameters, false],
    ["zod's $defs with recursion", treeSchema, true],
  ])("json_schema answers JSON valid against %s", async (_, schema, strict) => {
    for (const prompt of ["one", "two", "three", "four"]) {
      const completion = await chat({
        messages: user(prompt),
        response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict } },
      });
      expect(completion.choices[0]!.finish_reason).toBe("stop");
      expect(validates(schema, JSON.parse(completion.choices[0]!.message.content!))).toBe(true);
    }
  });

  it("json_object answers a JSON object", async () => {
    const completion = await chat({ messages: user("answer in json"), response_format: { type: "json_object" } });
    const value: unknown = JSON.parse(completion.choices[0]!.message.content!);
    expect(value).toEqual({ answer: expect.any(String) });
  });
});

describe("SimulatorProvider n, stop, max_tokens and usage", () => {
  it("answers n samples, different from each other and the same for the same request", async () => {
    const body = { messages: user("sample me"), n: 3 };
    const first = await chat(body);
    expect(first.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(first.choices.map((c) => c.message.content)).size).toBe(3);
    expect((await chat(body)).choices).toEqual(first.choices);
  });

  it("cuts before the earliest stop sequence, string or array, with finish_reason stop", async () => {
    const full = (await chat({ messages: user("stop here") }, { answerWords: 40 })).choices[0]!.message.content!;
    const words = full.split(" ");
    const late = ` ${words[30]} `;
    const early = ` ${words[10]} `;
    const expected = full.slice(0, Math.min(full.indexOf(early), full.indexOf(late)));
    const cut = await chat({ messages: user("stop here"), stop: [late, early, "never-there"] }, { answerWords: 40 });
    expect(cut.choices[0]).toMatchObject({ finish_reason: "stop", message: { content: expected } });
    expect((await chat({ messages: user("stop here"), stop: early }, { answerWords: 40 })).choices[0]!.message.content).toBe(
      expected,
    );
    expect(cut.usage!.completion_tokens).toBeLessThan(40);
  });

  it("max_completion_tokens cuts text, JSON and tool arguments with finish_reason length", async () => {
    const format = { type: "json_schema", json_schema: { name: "w", schema: weatherParameters } };
    const whole = (await chat({ messages: user("x"), response_format: format })).choices[0]!.message.content!;
    expect(validates(weatherParameters, JSON.parse(whole))).toBe(true);
    const cut = await chat({ messages: user("x"), response_format: format, max_completion_tokens: 3 });
    expect(cut.choices[0]!.finish_reason).toBe("length");
    expect(whole.startsWith(cut.choices[0]!.message.content!)).toBe(true);
    expect(cut.usage!.completion_tokens).toBe(3);

    const argumentsOf = (completion: ChatCompletion) =>
      (completion.choices[0]!.message.tool_calls![0] as { function: { arguments: string } }).function.arguments;
    const uncut = await chat({ messages: user("weather"), tools: [weatherTool], tool_choice: "required" });
    const tool = await chat({ messages: user("weather"), tools: [weatherTool], tool_choice: "required", max_tokens: 2 });
    expect(tool.choices[0]!.finish_reason).toBe("length");
    expect(tool.usage!.completion_tokens).toBe(2);
    expect(argumentsOf(uncut).startsWith(argumentsOf(tool))).toBe(true);
    expect(argumentsOf(tool).length).toBeLessThan(argumentsOf(uncut).length);
  });

  it("counts usage deterministically: prompt grows with tool definitions, completion is the tokens sent", async () => {
    const plain = await chat({ messages: user("count me") }, { answerWords: 7 });
    expect(plain.usage).toEqual({ prompt_tokens: 2, completion_tokens: 7, total_tokens: 9 });
    const withTools = await chat({ messages: user("count me"), tools: [weatherTool], tool_choice: "none" }, { answerWords: 7 });
    expect(withTools.usage!.prompt_tokens).toBeGreaterThan(plain.usage!.prompt_tokens + 20);
  });

  it("refuses what it cannot answer with a 400 client error naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ messages: user("x"), n: 9 }, "n"],
      [{ messages: user("x"), tool_choice: "required" }, "tool_choice"],
      [
        { messages: user("x"), tools: [weatherTool], tool_choice: { type: "function", function: { name: "nope" } } },
        "tool_choice",
      ],
      [
        {
          messages: user("x"),
          tools: [{ type: "function", function: { name: "bad", parameters: { $ref: "#/$defs/gone" } } }],
          tool_choice: "required",
        },
        "tools[0].function.parameters",
      ],
      [
        {
          messages: user("x"),
          response_format: {
            type: "json_schema",
            json_schema: { name: "r", schema: { type: "integer", minimum: 3, maximum: 2 } },
          },
        },
        "response_format.json_schema.schema",
      ],
      [{ messages: [] }, "messages"],
    ];
    for (const [body, param] of cases) {
      const failure = await chat(body).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(UpstreamFailure);
      expect(failure).toMatchObject({
        reason: "client_error",
        status: 400,
        retryable: false,
        upstreamError: { type: "invalid_request_error", param },
      });
    }
  });
});

describe("SimulatorProvider streaming", () => {
  it("streams a tool call as OpenAI does: id, type and name with empty arguments first, then fragments", async () => {
    const body = {
      messages: user("weather in Rome"),
      tools: [weatherTool, timeTool],
      tool_choice: "required",
      stream_options: { include_usage: true },
    };
    const chunks = await streamed(body);
    const deltas = chunks.flatMap((chunk) => chunk.choices.map((choice) => choice.delta));
    expect(deltas[0]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { index: 0, id: expect.stringMatching(/^call_/), type: "function", function: { name: "get_weather", arguments: "" } },
      ],
    });
    const fragments = deltas.slice(1).flatMap((delta) => delta.tool_calls ?? []);
    expect(fragments.length).toBeGreaterThan(3);
    for (const fragment of fragments) expect(fragment).toEqual({ index: 0, function: { arguments: expect.any(String) } });
    const args = fragments.map((f) => f.function!.arguments).join("");
    expect(validates(weatherParameters, JSON.parse(args))).toBe(true);
    const whole = await chat({ ...body, stream_options: undefined });
    expect(args).toBe((whole.choices[0]!.message.tool_calls![0] as { function: { arguments: string } }).function.arguments);

    const withChoices = chunks.filter((chunk) => chunk.choices.length > 0);
    expect(withChoices.at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
    expect(withChoices.every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
  });

  it("streams parallel calls, each with its own index, id and name", async () => {
    const chunks = await streamed({
      messages: user("the weather and the time"),
      tools: [weatherTool, timeTool],
      tool_choice: "auto",
    });
    const calls = new Map<number, { name?: string; id?: string; args: string }>();
    for (const chunk of chunks) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        const entry = calls.get(call.index) ?? { args: "" };
        entry.name ??= call.function?.name;
        entry.id ??= call.id;
        entry.args += call.function?.arguments ?? "";
        calls.set(call.index, entry);
      }
    }
    expect([...calls.values()].map((c) => c.name)).toEqual(["get_weather", "current_time"]);
    for (const call of calls.values()) expect(validates(parametersOf[call.name!]!, JSON.parse(call.args))).toBe(true);
  });

  it("streams n choices side by side, each joining to its non-streamed content", async () => {
    const body = { messages: user("several"), n: 2, stop: ["capacity"] };
    const chunks = await streamed(body);
    const whole = await chat(body);
    for (const index of [0, 1]) {
      const mine = chunks.flatMap((chunk) => chunk.choices.filter((choice) => choice.index === index));
      expect(mine.map((choice) => choice.delta.content ?? "").join("")).toBe(whole.choices[index]!.message.content);
      expect(mine.at(-1)!.finish_reason).toBe(whole.choices[index]!.finish_reason);
    }
    expect(chunks.slice(0, 4).map((chunk) => chunk.choices[0]!.index)).toEqual([0, 1, 0, 1]);
  });

  it("streams JSON for a json_schema response format", async () => {
    const chunks = await streamed({
      messages: user("json please"),
      response_format: { type: "json_schema", json_schema: { name: "p", schema: planParameters } },
    });
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(validates(planParameters, JSON.parse(text))).toBe(true);
  });
});

describe("SimulatorProvider embeddings", () => {
  const embed = async (body: Record<string, unknown>, settings: Partial<SimulatorSettings> = {}) =>
    (await simulator(settings).embed({
      body: { model: "sim-embed", ...body },
      signal: new Cancellation(),
    })) as unknown as CreateEmbeddingResponse;
  const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
  const cosine = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

  it("answers OpenAI's shape with unit vectors of 1536 dimensions by default, or as many as asked", async () => {
    const response = await embed({ input: ["the quick brown fox", "a lazy dog"] });
    expect(response).toMatchObject({
      object: "list",
      model: "sim-embed",
      usage: { prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) },
    });
    expect(response.usage.total_tokens).toBe(response.usage.prompt_tokens);
    expect(response.data.map((d) => [d.object, d.index, d.embedding.length])).toEqual([
      ["embedding", 0, 1536],
      ["embedding", 1, 1536],
    ]);
    for (const { embedding } of response.data) expect(norm(embedding)).toBeCloseTo(1, 5);
    for (const dimensions of [1, 2, 64, 3072]) {
      const [item] = (await embed({ input: "sized", dimensions })).data;
      expect(item!.embedding).toHaveLength(dimensions);
      expect(norm(item!.embedding)).toBeCloseTo(1, 5);
    }
  });

  it("gives equal inputs equal vectors and similar inputs closer ones", async () => {
    const texts = [
      "the cat sat on the mat",
      "the cat sat on the mat",
      "the cats sat on a mat",
      "quarterly revenue grew in europe",
    ];
    const [a, same, similar, other] = (await embed({ input: texts })).data.map((d) => d.embedding);
    expect(same).toEqual(a);
    expect(cosine(a!, similar!)).toBeGreaterThan(0.5);
    expect(cosine(a!, similar!)).toBeGreaterThan(cosine(a!, other!) + 0.3);
    // Another request, another instance of the simulator: the same vector.
    expect((await embed({ input: texts[0] })).data[0]!.embedding).toEqual(a);
  });

  it("encodes base64 as the little-endian float32 values of the float answer", async () => {
    const floats = (await embed({ input: "decode me", dimensions: 16 })).data[0]!.embedding;
    const encoded = (await embed({ input: "decode me", dimensions: 16, encoding_format: "base64" })).data[0]!
      .embedding as unknown as string;
    const bytes = Buffer.from(encoded, "base64");
    expect(bytes).toHaveLength(64);
    expect(Array.from({ length: 16 }, (_, i) => bytes.readFloatLE(i * 4))).toEqual(floats);
  });

  it("embeds token arrays, one or many", async () => {
    const one = await embed({ input: [101, 2023, 102], dimensions: 8 });
    expect(one.data).toHaveLength(1);
    expect(one.usage.prompt_tokens).toBe(3);
    const many = await embed({ input: [[1, 2], [1, 2], [3]], dimensions: 8 });
    expect(many.data[0]!.embedding).toEqual(many.data[1]!.embedding);
    expect(many.usage.prompt_tokens).toBe(5);
  });

  it("refuses bad input with a 400 client error naming the field", async () => {
    for (const [body, param] of [
      [{ input: "" }, "input"],
      [{ input: [] }, "input"],
      [{ input: "x", dimensions: 0 }, "dimensions"],
      [{ input: "x", dimensions: 3073 }, "dimensions"],
      [{ input: "x", encoding_format: "hex" }, "encoding_format"],
    ] as const) {
      await expect(embed(body)).rejects.toMatchObject({ reason: "client_error", status: 400, upstreamError: { param } });
    }
  });
});

describe("SimulatorProvider latency and errors apply to every kind of call", () => {
  it("injects errors into tool calls, streams and embeddings", async () => {
    const provider = simulator({ errorRate: 1 });
    const signal = new Cancellation();
    await expect(
      provider.complete({
        body: { model: "m", messages: user("weather"), tools: [weatherTool], tool_choice: "required" },
        signal,
      }),
    ).rejects.toMatchObject({ reason: "server_error" });
    await expect(provider.stream({ body: { model: "m", messages: user("x"), stream: true }, signal })).rejects.toMatchObject({
      reason: "server_error",
    });
    await expect(provider.embed({ body: { model: "m", input: "x" }, signal })).rejects.toMatchObject({ reason: "server_error" });
  });

  it("waits its latency before embeddings too", async () => {
    const started = performance.now();
    await simulator({ latencyMs: { median: 60, p99: 60 } }).embed({
      body: { model: "m", input: "x" },
      signal: new Cancellation(),
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
  });
});
