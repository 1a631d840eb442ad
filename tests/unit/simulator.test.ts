// The built-in simulator provider: deterministic text from the prompt, limits, latency, token
// rate, error injection, and cancellation through the call's signal.
import { describe, expect, it } from "vitest";
import { SimulatorProvider, simulatorSettingsSchema, type SimulatorSettings } from "../../lib/providers/simulator";
import { Cancellation } from "../../lib/providers/cancellation";
import { UpstreamFailure, type UpstreamCall } from "../../lib/providers/types";

const simulator = (settings: Partial<SimulatorSettings> = {}) => new SimulatorProvider(simulatorSettingsSchema.parse(settings));
const call = (content: string, extra: Record<string, unknown> = {}, signal = new Cancellation()): UpstreamCall => ({
  body: { model: "sim", messages: [{ role: "user", content }], ...extra },
  signal,
});

type Completion = { choices: Array<{ index: number; message: { content: string }; finish_reason: string }>; usage: Record<string, number> };

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
    const answer = (await simulator({ answerWords: 30 }).complete(call("hello", { max_tokens: 5, n: 3 }))) as unknown as Completion;
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
    for await (const data of await provider.stream(call("stream it", { stream_options: { include_usage: true } }))) events.push(data);
    const elapsed = performance.now() - started;
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { choices: Array<{ delta: { content?: string } }>; usage?: { completion_tokens: number } });
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    const whole = (await provider.complete(call("stream it"))) as unknown as Completion;
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(10);
    expect(elapsed).toBeGreaterThanOrEqual(90);
  });

  it("fails the configured share of calls with a retryable server error", async () => {
    const provider = simulator({ errorRate: 0.3 });
    const outcomes = await Promise.all(Array.from({ length: 2_000 }, () => provider.complete(call("x")).then(() => null, (e: unknown) => e)));
    const failures = outcomes.filter((o) => o !== null);
    expect(failures.length).toBeGreaterThan(2_000 * 0.25);
    expect(failures.length).toBeLessThan(2_000 * 0.35);
    expect(failures[0]).toBeInstanceOf(UpstreamFailure);
    expect((failures[0] as UpstreamFailure).retryable).toBe(true);
  });

  it("draws a log-normal latency around the configured median and 99th percentile", async () => {
    // The drawn waits, read from the sleep rather than timed: 400 concurrent timers on a loaded
    // machine fire late and would measure the machine, not the distribution.
    const waits: number[] = [];
    const provider = new SimulatorProvider(simulatorSettingsSchema.parse({ latencyMs: { median: 20, p99: 60 } }), {
      sleep: async (ms) => void waits.push(ms),
    });
    await Promise.all(Array.from({ length: 400 }, () => provider.complete(call("x"))));
    expect(waits).toHaveLength(400);
    waits.sort((a, b) => a - b);
    // Sampling error at n = 400: about 3% on the median, 9% on the 99th percentile (log scale);
    // these bounds are five standard errors and more.
    expect(waits[200]!).toBeGreaterThan(17);
    expect(waits[200]!).toBeLessThan(23.5);
    expect(waits[396]!).toBeGreaterThan(38);
    expect(waits[396]!).toBeLessThan(95);
  });

  it("really waits the latency it draws before answering", async () => {
    const provider = simulator({ latencyMs: { median: 50, p99: 50 } });
    const started = performance.now();
    await provider.complete(call("x"));
    // Timers never fire early (a millisecond of rounding aside); late is the machine's business.
    expect(performance.now() - started).toBeGreaterThanOrEqual(49);
  });

  it("gives up a waiting call when it is cancelled, with the cancellation's reason", async () => {
    const cancellation = new Cancellation();
    const pending = simulator({ latencyMs: { median: 5_000, p99: 5_000 } }).complete(call("x", {}, cancellation));
    cancellation.cancel(new UpstreamFailure("timeout_total", "client went away"));
    await expect(pending).rejects.toMatchObject({ reason: "timeout_total", message: "client went away" });
  });
});
