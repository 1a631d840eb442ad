// The legacy text-completions API's translation to chat and back, as pure functions.
import type { Completion } from "openai/resources/completions";
import { describe, expect, it } from "vitest";
import { mergeLegacyCompletions } from "../../lib/data-plane/gateway/legacy-completions/batch";
import {
  chatChunkToLegacy,
  chatToLegacyCompletion,
  legacyCompletionsEndpoint,
  legacyToChatRequest,
  parseLegacyCompletionRequest,
} from "../../lib/data-plane/gateway/legacy-completions/endpoint";

const translate = (body: Record<string, unknown>) => legacyToChatRequest(parseLegacyCompletionRequest({ model: "m", ...body }));

describe("legacy completion request → chat request", () => {
  it("sends the prompt as one user message with OpenAI's default max_tokens of 16", () => {
    expect(translate({ prompt: "Once upon" })).toEqual({
      model: "m",
      messages: [{ role: "user", content: "Once upon" }],
      max_tokens: 16,
    });
    expect(translate({ prompt: ["Once upon"], max_tokens: 4 }).messages).toEqual([{ role: "user", content: "Once upon" }]);
  });

  it("passes the sampling settings, stop, n, seed, user and stream options", () => {
    expect(
      translate({
        prompt: "p",
        max_tokens: 5,
        stop: ["\n"],
        n: 2,
        temperature: 0,
        top_p: 0.5,
        seed: 7,
        user: "u",
        stream: true,
        stream_options: { include_usage: true },
        echo: false,
        best_of: 1,
      }),
    ).toEqual({
      model: "m",
      messages: [{ role: "user", content: "p" }],
      max_tokens: 5,
      stop: ["\n"],
      n: 2,
      temperature: 0,
      top_p: 0.5,
      seed: 7,
      user: "u",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("refuses what chat cannot answer, naming the parameter", () => {
    const refused = (body: Record<string, unknown>, error: Record<string, unknown>) =>
      expect(() => translate(body)).toThrow(expect.objectContaining({ status: 400, ...error }));
    refused({ prompt: "p", echo: true }, { param: "echo", code: "unsupported_value" });
    refused({ prompt: [1, 2, 3] }, { param: "prompt[0]", message: expect.stringMatching(/token arrays/) });
    refused({ prompt: [[1, 2]] }, { param: "prompt[0]" });
    refused({ prompt: "p", best_of: 3 }, { param: "best_of" });
    refused({ prompt: "p", logprobs: 2 }, { param: "logprobs" });
    refused({ prompt: "p", suffix: "end" }, { param: "suffix" });
    refused({}, { param: "prompt", code: "missing_required_parameter" });
  });
});

describe("chat answer → legacy completion", () => {
  it("turns each choice's message into text with its index and finish_reason", () => {
    const completion: Completion = chatToLegacyCompletion({
      id: "chatcmpl-abc",
      created: 5,
      model: "m",
      choices: [
        { index: 0, message: { content: "one" }, finish_reason: "stop" },
        { index: 1, message: { content: "two three" }, finish_reason: "length" },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
    });
    expect(completion).toEqual({
      id: "cmpl-abc",
      object: "text_completion",
      created: 5,
      model: "m",
      choices: [
        { text: "one", index: 0, logprobs: null, finish_reason: "stop" },
        { text: "two three", index: 1, logprobs: null, finish_reason: "length" },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
    });
  });

  it("turns stream chunks into legacy chunks, skipping the role-only chunk and keeping the usage chunk", () => {
    const base = { id: "chatcmpl-x", object: "chat.completion.chunk", created: 5, model: "m" };
    expect(
      chatChunkToLegacy({
        ...base,
        choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
        usage: null,
      } as never),
    ).toBeNull();
    expect(
      chatChunkToLegacy({ ...base, choices: [{ index: 1, delta: { content: "hi" }, finish_reason: null }] } as never),
    ).toEqual({
      id: "cmpl-x",
      object: "text_completion",
      created: 5,
      model: "m",
      choices: [{ text: "hi", index: 1, logprobs: null, finish_reason: null }],
    });
    expect(chatChunkToLegacy({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] } as never)!.choices).toEqual([
      { text: "", index: 0, logprobs: null, finish_reason: "stop" },
    ]);
    expect(
      chatChunkToLegacy({ ...base, choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } as never),
    ).toMatchObject({ choices: [], usage: { total_tokens: 2 } });
  });

  it("merges the answers to several prompts: prompt p's choices take indexes p·n…, usage adds up", () => {
    const answer = (text: string, tokens: number) => ({
      id: `cmpl-${text}`,
      object: "text_completion" as const,
      created: 5,
      model: "m",
      choices: [0, 1].map((index) => ({ text: `${text}${index}`, index, logprobs: null, finish_reason: "stop" })),
      usage: { prompt_tokens: 1, completion_tokens: tokens, total_tokens: 1 + tokens },
    });
    const merged = mergeLegacyCompletions([answer("a", 2), answer("b", 3)], 2);
    expect(merged.id).toBe("cmpl-a");
    expect(merged.choices.map((choice) => [choice.index, choice.text])).toEqual([
      [0, "a0"],
      [1, "a1"],
      [2, "b0"],
      [3, "b1"],
    ]);
    expect(merged.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  });

  it("ends legacy streams with [DONE]", () => {
    const encoder = legacyCompletionsEndpoint.parse({ model: "m", prompt: "p", stream: true }).presentation.stream();
    expect(encoder.end()).toBe("data: [DONE]\n\n");
  });
});
