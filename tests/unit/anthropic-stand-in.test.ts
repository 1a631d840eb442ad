// The Anthropic stand-in keeps to the contract closely enough that the official SDK accepts it.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAnthropicStandIn, type AnthropicStandIn } from "../helpers/anthropic-stand-in";

let standIn: AnthropicStandIn;
const client = (apiKey = "sk-ant-test") => new Anthropic({ apiKey, baseURL: standIn.url, maxRetries: 0 });

beforeAll(async () => {
  standIn = await startAnthropicStandIn({ apiKey: "sk-ant-test", name: "S" });
});
afterAll(() => standIn.close());

describe("the Anthropic stand-in, through @anthropic-ai/sdk", () => {
  it("answers messages.create deterministically, with stop sequences and token limits", async () => {
    const message = await client().messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 50,
      system: "sys",
      messages: [{ role: "user", content: "hello world" }],
    });
    expect(message).toMatchObject({
      role: "assistant",
      content: [{ type: "text", text: "[S] echo: hello world" }],
      stop_reason: "end_turn",
      usage: { input_tokens: 3, output_tokens: 4 },
    });
    const stopped = await client().messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 50,
      stop_sequences: ["world"],
      messages: [{ role: "user", content: "hello world" }],
    });
    expect(stopped).toMatchObject({
      content: [{ text: "[S] echo: hello " }],
      stop_reason: "stop_sequence",
      stop_sequence: "world",
    });
    const cut = await client().messages.create({
      model: "claude-haiku-4-5",
      max_tokens: 1,
      messages: [{ role: "user", content: "hello world" }],
    });
    expect(cut).toMatchObject({ content: [{ text: "[S]" }], stop_reason: "max_tokens" });
    expect(standIn.requests.at(-1)!.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("streams events the SDK assembles, tool use included", async () => {
    const text = await client()
      .messages.stream({ model: "claude-haiku-4-5", max_tokens: 50, messages: [{ role: "user", content: "a b c" }] })
      .finalText();
    expect(text).toBe("[S] echo: a b c");
    const final = await client()
      .messages.stream({
        model: "claude-haiku-4-5",
        max_tokens: 50,
        tools: [{ name: "t", input_schema: { type: "object" } }],
        tool_choice: { type: "any" },
        messages: [{ role: "user", content: "x" }],
      })
      .finalMessage();
    expect(final).toMatchObject({ stop_reason: "tool_use", content: [{ type: "tool_use", name: "t", input: {} }] });
  });

  it("fails as Anthropic does: wrong key, unknown model, injected overload", async () => {
    await expect(
      client("wrong").messages.create({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(
      client().messages.create({ model: "nope", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.NotFoundError);
    standIn.behaviour = { failNext: { count: 1, status: 529 } };
    await expect(
      client().messages.create({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.OverloadedError);
  });
});
