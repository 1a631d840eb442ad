// The built-in simulator: a real provider that answers in-process, for fresh installs, demos and
// load tests. Text is derived deterministically from the prompt; latency follows a log-normal
// distribution given by its median and 99th percentile; streams emit tokens at a set rate; a
// share of calls fail on purpose (error injection).
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { type CancelSignal, sleepUnlessCancelled } from "./cancellation";
import { type ProviderClient, type UpstreamCall, UpstreamFailure } from "./types";

export const simulatorSettingsSchema = z.object({
  latencyMs: z
    .object({ median: z.number().min(0).max(600_000).default(0), p99: z.number().min(0).max(600_000).default(0) })
    .refine((l) => l.p99 >= l.median, { message: "p99 must be at least the median" })
    .default({ median: 0, p99: 0 }),
  /** Streaming speed; 0 sends every token at once. */
  tokensPerSecond: z.number().min(0).max(100_000).default(0),
  /** Share of calls that fail with a 500 (0..1). */
  errorRate: z.number().min(0).max(1).default(0),
  /** Words in an answer when the request sets no max_tokens. */
  answerWords: z.number().int().min(1).max(4_096).default(24),
});
export type SimulatorSettings = z.infer<typeof simulatorSettingsSchema>;

const VOCABULARY = (
  "the a gateway routes every request to a healthy upstream while instances share state through " +
  "postgres and scale out behind a balancer with leases fencing tokens metrics alerts and a console " +
  "for operators who watch latency throughput errors cache hits and capacity"
).split(" ");

const Z_99 = 2.3263478740408408;

interface Message {
  role?: string;
  content?: unknown;
}

export function promptText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Message[]) : [];
  return messages
    .map((m) =>
      typeof m.content === "string"
        ? m.content
        : Array.isArray(m.content)
          ? m.content.map((p: { text?: string }) => p?.text ?? "").join(" ")
          : "",
    )
    .join("\n");
}

/** Rough token estimate (about four characters a token), used for usage when nothing better exists. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export interface SimulatorOptions {
  /** Waits out a simulated latency (default: a timer); tests read the drawn latencies instead of timing them. */
  sleep?: (ms: number, signal: CancelSignal) => Promise<void>;
}

export class SimulatorProvider implements ProviderClient {
  readonly kind = "simulator" as const;
  private readonly sigma: number;
  /** No latency and no injected errors: answers without a wait (load tests measure the gateway). */
  private readonly instant: boolean;
  private readonly sleep: (ms: number, signal: CancelSignal) => Promise<void>;

  constructor(
    private readonly settings: SimulatorSettings,
    { sleep = sleepUnlessCancelled }: SimulatorOptions = {},
  ) {
    this.sleep = sleep;
    const { median, p99 } = settings.latencyMs;
    this.sigma = median > 0 && p99 > median ? Math.log(p99 / median) / Z_99 : 0;
    this.instant = median === 0 && settings.errorRate === 0;
  }

  async complete(call: UpstreamCall): Promise<Record<string, unknown>> {
    if (!this.instant) await this.beforeAnswer(call);
    const { words, finishReason, promptTokens } = this.answer(call.body);
    const content = words.join(" ");
    const choices = [];
    for (let index = 0, n = choiceCount(call.body); index < n; index++) {
      choices.push({ index, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: finishReason });
    }
    const completionTokens = words.length * choices.length;
    return {
      id: `chatcmpl-${randomUUID()}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: String(call.body.model),
      system_fingerprint: "fp_agenticorp_simulator",
      choices,
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  }

  async stream(call: UpstreamCall): Promise<AsyncIterable<string>> {
    if (!this.instant) await this.beforeAnswer(call);
    const { words, finishReason, promptTokens } = this.answer(call.body);
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = String(call.body.model);
    const includeUsage = (call.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const gapMs = this.settings.tokensPerSecond > 0 ? 1000 / this.settings.tokensPerSecond : 0;
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      JSON.stringify({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_agenticorp_simulator", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra });
    const signal = call.signal;
    const sleep = this.sleep;
    return (async function* () {
      yield chunk({ role: "assistant", content: "" }, null);
      for (let i = 0; i < words.length; i++) {
        if (gapMs > 0) await sleep(gapMs, signal);
        yield chunk({ content: i === 0 ? words[i] : ` ${words[i]}` }, null);
      }
      yield chunk({}, finishReason);
      if (includeUsage) {
        yield JSON.stringify({
          id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_agenticorp_simulator", choices: [],
          usage: { prompt_tokens: promptTokens, completion_tokens: words.length, total_tokens: promptTokens + words.length },
        });
      }
      yield "[DONE]";
    })();
  }

  async probe(): Promise<void> {}

  async close(): Promise<void> {}

  /** Simulated latency and error injection. The call's cancellation is listened to only when there is a wait. */
  private async beforeAnswer(call: UpstreamCall): Promise<void> {
    const delay = this.sampleLatency();
    if (delay > 0) {
      await this.sleep(delay, call.signal);
    }
    if (this.settings.errorRate > 0 && Math.random() < this.settings.errorRate) {
      throw new UpstreamFailure("server_error", "upstream answered 500: simulated failure (error injection)", 500);
    }
  }

  private sampleLatency(): number {
    const { median } = this.settings.latencyMs;
    if (median <= 0) return 0;
    if (this.sigma === 0) return median;
    // Box-Muller: one standard normal sample.
    const normal = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
    return median * Math.exp(this.sigma * normal);
  }

  /** The words of the answer, a pure function of the prompt (and of the limits the request sets). */
  private answer(body: Record<string, unknown>): { words: string[]; finishReason: string; promptTokens: number } {
    const prompt = promptText(body);
    const wanted = this.settings.answerWords;
    const limit = Number(body.max_completion_tokens ?? body.max_tokens ?? Infinity);
    const count = Math.min(wanted, Number.isFinite(limit) && limit > 0 ? limit : wanted);
    const words = new Array<string>(count);
    // xorshift32 seeded by the prompt's FNV-1a hash: varied-looking text for a few operations a
    // word (a SHA-256 per request was a tenth of the simulator's cost).
    let state = fnv1a(prompt) || 1;
    for (let i = 0; i < count; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      words[i] = VOCABULARY[(state >>> 0) % VOCABULARY.length]!;
    }
    return { words, finishReason: count < wanted ? "length" : "stop", promptTokens: estimateTokens(prompt) };
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function choiceCount(body: Record<string, unknown>): number {
  const n = Number(body.n ?? 1);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 16) : 1;
}
