// POST /v1/embeddings and /api/v1/embeddings — OpenAI's embeddings API on the shared pipeline
// (keys, allowed models, limits, routing, cache, metrics). Embeddings are deterministic, so every
// request is cacheable unless the client sends `x-agenticorp-cache: bypass`.
import { z } from "zod";
import type { CacheDecision } from "../cache/response-cache";
import { asGiven, type Endpoint } from "./presentation";
import { parseRequestBody } from "./schema";

/** OpenAI's own limit on inputs per request. */
const MAX_INPUTS = 2_048;

const tokens = z.array(z.number().int().nonnegative()).min(1, "must not be empty");

const embeddingsRequest = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([
    z.string().min(1, "must not be empty"),
    z.array(z.string().min(1, "must not be empty")).min(1, "must not be empty").max(MAX_INPUTS),
    tokens,
    z.array(tokens).min(1, "must not be empty").max(MAX_INPUTS),
  ]),
  dimensions: z.number().int().min(1).max(16_384).optional(),
  encoding_format: z.enum(["float", "base64"]).optional(),
  user: z.string().max(256).optional(),
});

export const embeddingsEndpoint: Endpoint = {
  name: "embeddings",
  parse(body) {
    // The API has no streaming: a stray `stream` must not send the request down the SSE path.
    const { stream: _ignored, ...request } = parseRequestBody(embeddingsRequest, body);
    return { upstream: request, presentation: asGiven };
  },
  call: (client, call) => client.embed(call),
  cacheDecision: (_body, header): CacheDecision => (header === "bypass" ? "bypass" : "cacheable"),
};
