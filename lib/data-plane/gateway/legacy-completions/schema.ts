// OpenAI's legacy text-completions request (POST /v1/completions), as far as it maps onto chat.
import { z } from "zod";

export const legacyCompletionRequest = z.looseObject({
  model: z.string().min(1).max(256),
  // A string is shorthand for one prompt; turning it into a list here keeps a union out of the
  // schema, so errors name the offending element.
  prompt: z.preprocess(
    (value) => (typeof value === "string" ? [value] : value),
    z
      .array(z.string({ error: "token arrays are not supported by this gateway (it has no tokenizer); send the prompt as text" }))
      .min(1, "must contain at least one prompt"),
  ),
  suffix: z.string().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  best_of: z.number().int().min(1).max(20).nullish(),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  seed: z.number().int().nullish(),
  user: z.string().max(256).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

export type LegacyCompletionRequest = z.infer<typeof legacyCompletionRequest>;
