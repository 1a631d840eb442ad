// The Responses API's native form: which providers get it, how a cached native answer is told,
// and the relay of a native event stream (model renamed, endings, failures, forged event lines).
import { describe, expect, it } from "vitest";
import type { StreamObserver, TokenUsage } from "../../lib/data-plane/gateway/presentation";
import { responsesEndpoint } from "../../lib/data-plane/gateway/responses/endpoint";
import { OpenAICompatibleProvider } from "../../lib/data-plane/providers/openai-compatible";
import { UpstreamFailure } from "../../lib/data-plane/providers/types";

const timeouts = { connectMs: 1_000, firstByteMs: 1_000, totalMs: 1_000 };

function recorder() {
  const seen = { firstTokens: 0, usage: [] as TokenUsage[] };
  const observer: StreamObserver = { firstToken: () => void seen.firstTokens++, usage: (usage) => void seen.usage.push(usage) };
  return { seen, observer };
}

const event = (type: string, sequence: number, fields: Record<string, unknown> = {}) =>
  JSON.stringify({ type, sequence_number: sequence, ...fields });

describe("the Responses endpoint's native form", () => {
  it("is offered only by OpenAI-compatible providers marked native, and carries the client's own body", async () => {
    const marked = new OpenAICompatibleProvider({ baseUrl: "http://127.0.0.1:9/v1", timeouts, responsesApi: "native" });
    const unmarked = new OpenAICompatibleProvider({ baseUrl: "http://127.0.0.1:9/v1", timeouts });
    try {
      const body = { model: "m", input: "hi", store: false, include: ["reasoning.encrypted_content"] };
      const { native, upstream } = responsesEndpoint.parse(body);
      expect(native!.callsOf(marked)).toBeDefined();
      expect(native!.callsOf(unmarked)).toBeUndefined();
      expect(native!.body).toEqual(body);
      expect(upstream).toHaveProperty("messages");
      expect(native!.usageOf({ usage: { input_tokens: 3, output_tokens: 5, total_tokens: 8 } })).toEqual({
        prompt_tokens: 3,
        completion_tokens: 5,
      });
    } finally {
      await Promise.all([marked.close(), unmarked.close()]);
    }
  });

  it("tells a cached native answer as it is and a cached translated one as a new response", () => {
    const { presentation } = responsesEndpoint.parse({ model: "m", input: "hi" });
    const upstreamResponse = { id: "resp_upstream", object: "response", model: "m", output: [], status: "completed" };
    expect(JSON.parse(presentation.json(JSON.stringify({ form: "native", answer: upstreamResponse })))).toEqual(upstreamResponse);
    const translated = JSON.parse(
      presentation.json(
        JSON.stringify({
          form: "translated",
          answer: { created: 1, choices: [{ message: { content: "yo" }, finish_reason: "stop" }] },
        }),
      ),
    );
    expect(translated).toMatchObject({ object: "response", output_text: "yo" });
    expect(translated.id).not.toBe("resp_upstream");
  });
});

describe("the native stream relay", () => {
  const relayOf = (observer: StreamObserver) =>
    responsesEndpoint.parse({ model: "public", input: "hi", stream: true }).native!.relay("public", observer);

  it("relays each event with its event line, renames the model, reports the first token and the usage, ends at response.completed", () => {
    const { seen, observer } = recorder();
    const relay = relayOf(observer);
    expect(relay.next(event("response.created", 0, { response: { id: "resp_1", model: "gpt-4o-mini", output: [] } }))).toBe(
      `event: response.created\ndata: ${event("response.created", 0, { response: { id: "resp_1", model: "public", output: [] } })}\n\n`,
    );
    const delta = event("response.output_text.delta", 1, {
      item_id: "msg_1",
      output_index: 0,
      content_index: 0,
      delta: "hi",
      logprobs: [],
    });
    expect(relay.next(delta)).toBe(`event: response.output_text.delta\ndata: ${delta}\n\n`);
    relay.next(event("response.output_text.delta", 2, { delta: " there" }));
    expect(seen.firstTokens).toBe(1);
    expect(relay.ending).toBeUndefined();
    relay.next(
      event("response.completed", 3, { response: { model: "gpt-4o-mini", usage: { input_tokens: 2, output_tokens: 3 } } }),
    );
    expect(relay.ending).toEqual({ ok: true });
    expect(seen.usage).toEqual([{ prompt_tokens: 2, completion_tokens: 3 }]);
  });

  it("ends incomplete responses as complete streams, failed ones and error events as the upstream's failure", () => {
    const incomplete = relayOf(recorder().observer);
    incomplete.next(event("response.incomplete", 0, { response: { model: "x", usage: null } }));
    expect(incomplete.ending).toEqual({ ok: true });

    const failed = relayOf(recorder().observer);
    expect(
      failed.next(event("response.failed", 0, { response: { model: "x", error: { code: "server_error", message: "boom" } } })),
    ).toContain('"model":"public"');
    expect(failed.ending).toMatchObject({ ok: false, failure: { reason: "server_error" } });

    const errored = relayOf(recorder().observer);
    expect(errored.next(event("error", 4, { code: "server_error", message: "overloaded", param: null }))).toMatch(
      /^event: error\n/,
    );
    expect(errored.ending).toMatchObject({
      ok: false,
      failure: { reason: "server_error", message: "upstream stream error: overloaded" },
    });
  });

  it("numbers its own error event after the upstream's last one", () => {
    const relay = relayOf(recorder().observer);
    relay.next(event("response.created", 0, { response: {} }));
    relay.next(event("response.in_progress", 1, { response: {} }));
    expect(relay.error("cut")).toBe(
      `event: error\ndata: {"type":"error","sequence_number":2,"code":"stream_interrupted","message":"cut","param":null}\n\n`,
    );
  });

  it("refuses events that are not JSON or whose type could forge an event line", () => {
    const relay = relayOf(recorder().observer);
    expect(() => relay.next("not json")).toThrow(UpstreamFailure);
    expect(() => relay.next(JSON.stringify({ type: "response.completed\n\nevent: forged" }))).toThrow(/without a valid type/);
    expect(() => relay.next(JSON.stringify({ sequence_number: 1 }))).toThrow(/without a valid type/);
  });
});
