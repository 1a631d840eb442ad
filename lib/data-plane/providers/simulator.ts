// The built-in simulator: a real provider that answers in-process, for fresh installs, demos and
// load tests, and behaves like a model: every answer is a pure function of the request (tool
// calls, JSON for response formats, n, stop, max_tokens, usage: simulation/chat.ts; embeddings:
// simulation/embeddings.ts). Latency follows a log-normal distribution given by its median and
// 99th percentile; streams emit tokens at a set rate; a share of calls fail on purpose (error
// injection) — for completions, streams and embeddings alike.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { sleepUnlessCancelled } from "./cancellation";
import { planChat } from "./simulation/chat";
import { simulatedEmbeddings } from "./simulation/embeddings";
import { chunkWriter, completionOf, type Envelope, openingDelta, tokenDeltas, usageOf } from "./simulation/render";
import { parseSimulatedChatRequest } from "./simulation/request";
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

const Z_99 = 2.3263478740408408;

export class SimulatorProvider implements ProviderClient {
  readonly kind = "simulator" as const;
  private readonly sigma: number;
  /** No latency and no injected errors: answers without a wait (load tests measure the gateway). */
  private readonly instant: boolean;

  constructor(
    private readonly settings: SimulatorSettings,
    /** How the simulator waits (latency, token gaps); tests record the waits instead of timing a loaded machine. */
    private readonly sleep: (ms: number, signal: UpstreamCall["signal"]) => Promise<void> = sleepUnlessCancelled,
  ) {
    const { median, p99 } = settings.latencyMs;
    this.sigma = median > 0 && p99 > median ? Math.log(p99 / median) / Z_99 : 0;
    this.instant = median === 0 && settings.errorRate === 0;
  }

  async complete(call: UpstreamCall): Promise<Record<string, unknown>> {
    const request = parseSimulatedChatRequest(call.body);
    if (!this.instant) await this.beforeAnswer(call);
    const plan = planChat(request, this.settings.answerWords);
    return completionOf(plan, envelopeFor(request.model)) as unknown as Record<string, unknown>;
  }

  async stream(call: UpstreamCall): Promise<AsyncIterable<string>> {
    const request = parseSimulatedChatRequest(call.body);
    if (!this.instant) await this.beforeAnswer(call);
    const plan = planChat(request, this.settings.answerWords);
    const includeUsage = request.stream_options?.include_usage === true;
    const writer = chunkWriter(envelopeFor(request.model), includeUsage);
    const gapMs = this.settings.tokensPerSecond > 0 ? 1000 / this.settings.tokensPerSecond : 0;
    const signal = call.signal;
    const sleep = this.sleep;
    return (async function* () {
      const deltas = plan.choices.map(tokenDeltas);
      for (const [index, choice] of plan.choices.entries()) yield writer.delta(index, openingDelta(choice));
      // Choices are sampled side by side, as OpenAI streams them: token k of every choice, then k + 1.
      const steps = Math.max(0, ...deltas.map((d) => d.length));
      for (let step = 0; step < steps; step++) {
        if (gapMs > 0) await sleep(gapMs, signal);
        for (const [index, choiceDeltas] of deltas.entries()) {
          const delta = choiceDeltas[step];
          if (delta) yield writer.delta(index, delta);
        }
      }
      for (const [index, choice] of plan.choices.entries()) yield writer.delta(index, {}, choice.finishReason);
      if (includeUsage) yield writer.usage(usageOf(plan));
      yield "[DONE]";
    })();
  }

  /** An OpenAI embeddings request body in, OpenAI's embeddings response out. */
  async embed(call: UpstreamCall): Promise<Record<string, unknown>> {
    const answer = simulatedEmbeddings(call.body);
    if (!this.instant) await this.beforeAnswer(call);
    return answer;
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
}

/** What every answer and every chunk of one stream share. */
function envelopeFor(model: string): Envelope {
  return { id: `chatcmpl-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model };
}
