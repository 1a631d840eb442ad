// POST /v1/completions — OpenAI's legacy text completions, served by the chat pipeline: the
// prompt becomes one user message, and the chat answer comes back as `text_completion` choices
// (JSON, or legacy chunks ending in [DONE]).
import { BadRequestError } from "../../../platform/errors";
import type { ChatAnswer, ChatChoice } from "../chat-answer";
import type { ChatCompletionChunk, Endpoint, Presentation, StreamEncoder } from "../presentation";
import { asGiven } from "../presentation";
import { parseRequestBody, type ChatCompletionRequest } from "../schema";
import { withoutNulls } from "../without-nulls";
import { legacyCompletionRequest, type LegacyCompletionRequest } from "./schema";

/** OpenAI's default for legacy completions (chat has none). */
const LEGACY_DEFAULT_MAX_TOKENS = 16;

function refuseUnsupported(request: LegacyCompletionRequest): void {
  const refuse = (param: string, message: string) => new BadRequestError(message, { param, code: "unsupported_value" });
  if (request.echo === true) throw refuse("echo", "echo is not supported by this gateway.");
  if (request.suffix) throw refuse("suffix", "suffix (insertion) is not supported by this gateway.");
  if (request.best_of != null && request.best_of > 1)
    throw refuse("best_of", "best_of above 1 is not supported by this gateway.");
  if (request.logprobs != null) throw refuse("logprobs", "logprobs are not supported on legacy completions by this gateway.");
}

/** Validates a legacy completion request, refusing what chat cannot answer. */
export function parseLegacyCompletionRequest(body: unknown): LegacyCompletionRequest {
  const request = parseRequestBody(legacyCompletionRequest, body);
  refuseUnsupported(request);
  return request;
}

/** The chat-completion request that answers a one-prompt legacy request (batches: ./batch.ts). */
export function legacyToChatRequest(request: LegacyCompletionRequest): ChatCompletionRequest {
  if (request.prompt.length !== 1)
    throw new BadRequestError("Expected exactly one prompt.", { param: "prompt", code: "invalid_value" });
  return withoutNulls({
    model: request.model,
    messages: [{ role: "user" as const, content: request.prompt[0]! }],
    max_tokens: request.max_tokens ?? LEGACY_DEFAULT_MAX_TOKENS,
    stop: request.stop,
    n: request.n,
    temperature: request.temperature,
    top_p: request.top_p,
    presence_penalty: request.presence_penalty,
    frequency_penalty: request.frequency_penalty,
    logit_bias: request.logit_bias,
    seed: request.seed,
    user: request.user,
    stream: request.stream,
    stream_options: request.stream ? request.stream_options : undefined,
  });
}

/** The chat usage as given, its three counts always present as the legacy API promises. */
function legacyUsage(usage: ChatAnswer["usage"]) {
  if (!usage) return undefined;
  const prompt = usage.prompt_tokens ?? 0;
  const completion = usage.completion_tokens ?? 0;
  return withoutNulls({
    ...usage,
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: usage.total_tokens ?? prompt + completion,
  });
}

const legacyId = (chatId: string | undefined) => (chatId ?? "").replace(/^chatcmpl-/, "cmpl-");

/** Without tools, chat ends for the same reasons a text completion does. */
type LegacyFinishReason = "stop" | "length" | "content_filter";

const legacyChoice = (choice: ChatChoice, text: string) => ({
  text,
  index: choice.index ?? 0,
  logprobs: null,
  finish_reason: (choice.finish_reason ?? null) as LegacyFinishReason | null,
});

/** A chat completion as a `text_completion`. */
export function chatToLegacyCompletion(completion: ChatAnswer) {
  return withoutNulls({
    id: legacyId(completion.id),
    object: "text_completion" as const,
    created: completion.created,
    model: completion.model,
    system_fingerprint: completion.system_fingerprint,
    choices: (completion.choices ?? []).map((choice) => ({
      ...legacyChoice(choice, choice.message?.content ?? ""),
      finish_reason: (choice.finish_reason ?? "stop") as LegacyFinishReason,
    })),
    usage: legacyUsage(completion.usage),
  });
}

/** A chat chunk as a legacy chunk; null when it says nothing a legacy client reads (the role chunk). */
export function chatChunkToLegacy(chunk: ChatCompletionChunk) {
  const source = chunk as ChatAnswer;
  const choices = (source.choices ?? []).flatMap((choice) => {
    const text = choice.delta?.content ?? "";
    return text || choice.finish_reason ? [legacyChoice(choice, text)] : [];
  });
  if (choices.length === 0 && !source.usage) return null;
  return withoutNulls({
    id: legacyId(source.id),
    object: "text_completion" as const,
    created: source.created,
    model: source.model,
    system_fingerprint: source.system_fingerprint,
    choices,
    usage: legacyUsage(source.usage),
  });
}

class LegacyStreamEncoder implements StreamEncoder {
  // Legacy streams end and fail exactly as chat streams do ([DONE], an in-band error object).
  private readonly chat = asGiven.stream();
  chunk(chunk: ChatCompletionChunk): string {
    const legacy = chatChunkToLegacy(chunk);
    return legacy ? `data: ${JSON.stringify(legacy)}\n\n` : "";
  }
  end(): string {
    return this.chat.end();
  }
  error(message: string): string {
    return this.chat.error(message);
  }
}

const legacyPresentation: Presentation = {
  json: (payload) => JSON.stringify(chatToLegacyCompletion(JSON.parse(payload) as ChatAnswer)),
  stream: () => new LegacyStreamEncoder(),
};

export const legacyCompletionsEndpoint: Endpoint = {
  name: "completions",
  parse: (body) => ({ upstream: legacyToChatRequest(parseLegacyCompletionRequest(body)), presentation: legacyPresentation }),
};
