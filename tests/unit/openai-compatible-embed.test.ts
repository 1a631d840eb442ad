// The openai-compatible provider's embed(): POST {baseUrl}/embeddings against the OpenAI stand-in
// on loopback, with the same credentials, timeouts, cancellation and error mapping as complete().
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Cancellation } from "../../lib/data-plane/providers/cancellation";
import { OpenAICompatibleProvider } from "../../lib/data-plane/providers/openai-compatible";
import { UpstreamFailure } from "../../lib/data-plane/providers/types";
import { type OpenAIStandIn, standInEmbedding, startOpenAIStandIn } from "../helpers/openai-stand-in";

const API_KEY = "sk-embed-test";
let standIn: OpenAIStandIn;
let provider: OpenAICompatibleProvider;

beforeAll(async () => {
  standIn = await startOpenAIStandIn({ apiKey: API_KEY });
  provider = new OpenAICompatibleProvider({
    baseUrl: standIn.url,
    apiKey: API_KEY,
    timeouts: { connectMs: 1_000, firstByteMs: 300, totalMs: 5_000 },
  });
});
afterAll(async () => {
  await provider.close();
  await standIn.close();
});
beforeEach(() => standIn.reset());

const embed = (body: Record<string, unknown>, signal = new Cancellation()) =>
  provider.embed({ body: { model: "text-embedding-3-small", ...body }, signal });

describe("OpenAICompatibleProvider.embed", () => {
  it("posts the body to /embeddings with the key and returns the upstream's answer", async () => {
    const answer = await embed({ input: ["a b", "c"], dimensions: 4, encoding_format: "float" });
    expect(answer).toEqual({
      object: "list",
      model: "text-embedding-3-small",
      data: [
        { object: "embedding", index: 0, embedding: standInEmbedding("a b", 4) },
        { object: "embedding", index: 1, embedding: standInEmbedding("c", 4) },
      ],
      usage: { prompt_tokens: 3, total_tokens: 3 },
    });
    expect(standIn.requests).toMatchObject([
      { method: "POST", path: "/v1/embeddings", body: { input: ["a b", "c"], dimensions: 4 } },
    ]);
    expect(standIn.requests[0]!.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it.each([
    [500, "server_error", true],
    [429, "rate_limited", true],
    [401, "auth_rejected", true],
  ])("maps an upstream %i to %s", async (status, reason, retryable) => {
    standIn.setBehaviour({ failNext: { count: 1, status } });
    const failure = await embed({ input: "x" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UpstreamFailure);
    expect(failure).toMatchObject({ reason, status, retryable });
  });

  it("passes the upstream's own 400 on, naming the field", async () => {
    await expect(embed({ input: "" })).rejects.toMatchObject({
      reason: "client_error",
      status: 400,
      upstreamError: { param: "input" },
    });
  });

  it("times out on the first byte like complete()", async () => {
    standIn.setBehaviour({ headerDelayMs: 2_000 });
    await expect(embed({ input: "x" })).rejects.toMatchObject({ reason: "timeout_first_byte" });
  });

  it("stops when the call is cancelled, with the cancellation's reason", async () => {
    standIn.setBehaviour({ stall: true });
    const cancellation = new Cancellation();
    const pending = embed({ input: "x" }, cancellation);
    await expect.poll(() => standIn.requests.length).toBe(1);
    cancellation.cancel(new UpstreamFailure("timeout_total", "client went away"));
    await expect(pending).rejects.toMatchObject({ reason: "timeout_total", message: "client went away" });
  });
});
