// POST /v1/completions with several prompts. Chat answers one conversation per call, so each
// prompt is its own completion through the whole pipeline (key admission, routing, retries, cache,
// metrics), asked in-process with Fastify's inject; the answers are merged as OpenAI orders them:
// the choices of prompt p take the indexes p·n … p·n+n-1. One-prompt requests go straight to the
// pipeline, untouched.
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from "fastify";
import { BadRequestError } from "../../../platform/errors";
import { parseLegacyCompletionRequest } from "./endpoint";

/** A bound on the fan-out one request can cause. */
const MAX_PROMPTS_PER_REQUEST = 32;

// What a sub-request must carry: who asks, and how the cache is to be used.
const FORWARDED_HEADERS = ["authorization", "x-agenticorp-cache"] as const;
// What a failed sub-request's answer keeps when it becomes the whole request's answer.
const FAILURE_HEADERS = ["content-type", "retry-after"] as const;

interface LegacyCompletion {
  id: string;
  object: "text_completion";
  created: number;
  model: string;
  choices: Array<{ index: number; [field: string]: unknown }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  [field: string]: unknown;
}

/** One completion per prompt, in prompt order, merged into one. */
export function mergeLegacyCompletions(answers: LegacyCompletion[], choicesPerPrompt: number): LegacyCompletion {
  const [first] = answers;
  const usage = answers.every((answer) => answer.usage)
    ? answers.reduce(
        (sum, { usage }) => ({
          prompt_tokens: sum.prompt_tokens + usage!.prompt_tokens,
          completion_tokens: sum.completion_tokens + usage!.completion_tokens,
          total_tokens: sum.total_tokens + usage!.total_tokens,
        }),
        { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      )
    : undefined;
  const choices = answers.flatMap((answer, prompt) =>
    answer.choices.map((choice) => ({ ...choice, index: prompt * choicesPerPrompt + choice.index })),
  );
  return { ...first!, choices, ...(usage ? { usage } : {}) };
}

const pick = (headers: Record<string, unknown>, names: readonly string[]) =>
  Object.fromEntries(names.flatMap((name) => (typeof headers[name] === "string" ? [[name, headers[name]]] : [])));

export function legacyCompletionsHandler(onePrompt: RouteHandlerMethod): RouteHandlerMethod {
  return async function legacyCompletions(request: FastifyRequest, reply: FastifyReply) {
    const prompt = (request.body as { prompt?: unknown } | null)?.prompt;
    if (!Array.isArray(prompt) || prompt.length <= 1) return onePrompt.call(request.server, request, reply);

    const parsed = parseLegacyCompletionRequest(request.body);
    if (parsed.prompt.length > MAX_PROMPTS_PER_REQUEST) {
      throw new BadRequestError(`At most ${MAX_PROMPTS_PER_REQUEST} prompts per request.`, {
        param: "prompt",
        code: "array_above_max_length",
      });
    }
    if (parsed.stream) {
      throw new BadRequestError("Streaming several prompts in one request is not supported: stream one prompt per request.", {
        param: "stream",
        code: "unsupported_value",
      });
    }
    const answers = await Promise.all(
      parsed.prompt.map((text) =>
        request.server.inject({
          method: "POST",
          url: request.url,
          // The request's id too: the request log files each prompt's entry under the id the client got.
          headers: {
            ...pick(request.headers, FORWARDED_HEADERS),
            "content-type": "application/json",
            "x-request-id": request.id,
          },
          payload: { ...(request.body as object), prompt: text },
        }),
      ),
    );
    // The first failure answers for the whole request, as it would have alone.
    const failed = answers.find((answer) => answer.statusCode !== 200);
    if (failed) return reply.code(failed.statusCode).headers(pick(failed.headers, FAILURE_HEADERS)).send(failed.body);
    return mergeLegacyCompletions(
      answers.map((answer) => answer.json<LegacyCompletion>()),
      parsed.n ?? 1,
    );
  };
}
