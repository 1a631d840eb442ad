// The simulator's embeddings: unit vectors that behave like a model's for tests and load tests.
// Each input is broken into features — its lower-cased words and the character trigrams of each
// word (half weight) — and every feature adds ±weight to one coordinate chosen by its hash
// (feature hashing); the sum is normalised to length 1. So equal inputs give equal vectors, inputs
// that share words or spellings point closer together, and the vector has any requested length.
// Token-array inputs use their token ids as the words.
import { z } from "zod";
import { invalidField } from "./request";
import { fnv1a } from "./seeded";
import { estimateTokens } from "./tokens";

const DEFAULT_EMBEDDING_DIMENSIONS = 1536;
/** OpenAI's own limits: the largest model's dimensions, and inputs a request. */
const MAX_EMBEDDING_DIMENSIONS = 3072;
const MAX_EMBEDDING_INPUTS = 2048;

const tokens = z.array(z.number().int().min(0)).min(1);
const simulatedEmbeddingRequest = z.looseObject({
  model: z.string(),
  input: z.union(
    [
      z.string().min(1),
      z.array(z.string().min(1)).min(1).max(MAX_EMBEDDING_INPUTS),
      tokens,
      z.array(tokens).min(1).max(MAX_EMBEDDING_INPUTS),
    ],
    {
      error: `must be a non-empty string, an array of up to ${MAX_EMBEDDING_INPUTS} non-empty strings, an array of token ids, or an array of such arrays`,
    },
  ),
  dimensions: z.number().int().min(1).max(MAX_EMBEDDING_DIMENSIONS).nullish(),
  encoding_format: z.enum(["float", "base64"]).nullish(),
});

export type EmbeddingInput = { text: string } | { tokens: number[] };

export function simulatedEmbeddings(body: Record<string, unknown>): Record<string, unknown> {
  const parsed = simulatedEmbeddingRequest.safeParse(body);
  if (!parsed.success) throw invalidField(parsed.error.issues);
  const request = parsed.data;
  const dimensions = request.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
  const base64 = request.encoding_format === "base64";
  let promptTokens = 0;
  const data = inputsOf(request.input).map((input, index) => {
    promptTokens += "text" in input ? estimateTokens(input.text) : input.tokens.length;
    const vector = embed(input, dimensions);
    return { object: "embedding", index, embedding: base64 ? littleEndianBase64(vector) : Array.from(vector) };
  });
  return { object: "list", data, model: request.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}

function inputsOf(input: z.infer<typeof simulatedEmbeddingRequest>["input"]): EmbeddingInput[] {
  if (typeof input === "string") return [{ text: input }];
  if (input.every((item) => typeof item === "string")) return input.map((text) => ({ text }));
  if (input.every((item) => typeof item === "number")) return [{ tokens: input }];
  return input.map((ids) => ({ tokens: ids }));
}

/** A unit vector of `dimensions` float32 coordinates. */
function embed(input: EmbeddingInput, dimensions: number): Float32Array {
  const sums = new Float64Array(dimensions);
  const add = (feature: string, weight: number) => {
    const hash = fnv1a(feature);
    sums[hash % dimensions]! += hash & 0x80000000 ? -weight : weight;
  };
  const words =
    "text" in input
      ? input.text
          .toLowerCase()
          .split(/[^\p{L}\p{N}]+/u)
          .filter(Boolean)
      : input.tokens.map(String);
  for (const word of words) {
    add(`w:${word}`, 1);
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.5);
  }
  // Only punctuation or space: the raw text still tells inputs apart.
  if (words.length === 0) add(`r:${"text" in input ? input.text : ""}`, 1);
  let norm = 0;
  for (const value of sums) norm += value * value;
  norm = Math.sqrt(norm);
  const vector = new Float32Array(dimensions);
  // Features that cancel out exactly would leave no direction: fall back to one fixed axis.
  if (norm === 0) vector[fnv1a(words.join(" ")) % dimensions] = 1;
  else for (let i = 0; i < dimensions; i++) vector[i] = sums[i]! / norm;
  return vector;
}

/** OpenAI's base64 encoding: the float32 values, little-endian, one after another. */
function littleEndianBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4);
  return bytes.toString("base64");
}
