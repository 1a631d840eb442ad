// POST /v1/embeddings through the real server, driven by the official clients a RAG pipeline uses
// (the openai SDK, the AI SDK's embed/embedMany, LangChain's OpenAIEmbeddings): against the
// built-in simulator and against the OpenAI stand-in upstream (the openai_compatible provider),
// with the same keys, allowed models, cache and metrics as chat completions.
import { createOpenAI } from "@ai-sdk/openai";
import { OpenAIEmbeddings } from "@langchain/openai";
import { embed, embedMany } from "ai";
import OpenAI, { BadRequestError, PermissionDeniedError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, GatewayFixture, unique } from "../helpers/gateway-fixture";
import { startOpenAIStandIn, standInEmbedding, type OpenAIStandIn } from "../helpers/openai-stand-in";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let server: ServerProcess;
let upstream: OpenAIStandIn;
let key: string;
let chatOnlyKey: string;
const simulated = unique("sim-embed");
const proxied = unique("embed-proxied");

const client = (apiKey = key) => new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 20_000 });
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0) / (norm(a) * norm(b));

beforeAll(async () => {
  upstream = await startOpenAIStandIn({ apiKey: "upstream-key", name: "E" });
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator"),
    settings: { latencyMs: { median: 0, p99: 0 }, tokensPerSecond: 0, errorRate: 0 },
    deployments: [{ modelName: simulated, upstreamModel: "sim-embed" }],
  });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: unique("stand-in"),
    baseUrl: upstream.url,
    apiKey: "upstream-key",
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 } },
    deployments: [{ modelName: proxied, upstreamModel: "text-embedding-3-small" }],
  });
  key = (await fixture.addKey()).key;
  chatOnlyKey = (await fixture.addKey({ allowedModels: ["sim-fast"] })).key;
  server = await fixture.startServer();
  await eventually(async () => (await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).ok);
});
afterAll(async () => {
  await fixture.close();
  await upstream?.close();
});

describe("embeddings with the openai SDK", () => {
  it("answers the simulator's unit vectors, equal for equal inputs, closer for similar ones", async () => {
    const inputs = [
      "the cat sat on the mat",
      "the cat sat on a mat",
      "quarterly revenue grew by nine percent",
      "the cat sat on the mat",
    ];
    const answer = await client().embeddings.create({ model: simulated, input: inputs });
    expect(answer.object).toBe("list");
    expect(answer.model).toBe(simulated);
    expect(answer.data.map((d) => d.index)).toEqual([0, 1, 2, 3]);
    const vectors = answer.data.map((d) => d.embedding);
    for (const v of vectors) {
      expect(v).toHaveLength(1536);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(vectors[3]).toEqual(vectors[0]);
    expect(cosine(vectors[0]!, vectors[1]!)).toBeGreaterThan(cosine(vectors[0]!, vectors[2]!));
    expect(answer.usage.prompt_tokens).toBeGreaterThan(0);
    expect(answer.usage.total_tokens).toBe(answer.usage.prompt_tokens);
  });

  it("honours dimensions and base64 (the SDK's default encoding, decoded by it)", async () => {
    const answer = await client().embeddings.create({ model: simulated, input: "short", dimensions: 64 });
    expect(answer.data[0]!.embedding).toHaveLength(64);
    const raw = await fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: simulated, input: "short", dimensions: 64, encoding_format: "base64" }),
    });
    const body = (await raw.json()) as { data: Array<{ embedding: string }> };
    expect(typeof body.data[0]!.embedding).toBe("string");
    // A copy: Node's small Buffers share one pooled ArrayBuffer.
    const floats = new Float32Array(Uint8Array.from(Buffer.from(body.data[0]!.embedding, "base64")).buffer);
    expect([...floats].map((x) => Math.fround(x))).toEqual(answer.data[0]!.embedding.map((x) => Math.fround(x)));
  });

  it("proxies to an OpenAI-compatible upstream with the deployment's model and the gateway's credentials", async () => {
    upstream.reset();
    const answer = await client().embeddings.create({ model: proxied, input: ["alpha", "beta"], encoding_format: "float" });
    expect(answer.model).toBe(proxied);
    expect(answer.data[0]!.embedding).toEqual(standInEmbedding("alpha", 1536));
    expect(answer.data[1]!.embedding).toEqual(standInEmbedding("beta", 1536));
    const sent = upstream.requests.filter((r) => r.path === "/v1/embeddings");
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.authorization).toBe("Bearer upstream-key");
    expect(sent[0]!.body).toMatchObject({ model: "text-embedding-3-small", input: ["alpha", "beta"] });
  });

  it("serves a repeated request from the cache, unless the client bypasses it", async () => {
    upstream.reset();
    const input = unique("cache me");
    const first = await client().embeddings.create({ model: proxied, input, encoding_format: "float" }).withResponse();
    const second = await client().embeddings.create({ model: proxied, input, encoding_format: "float" }).withResponse();
    const bypassed = await client()
      .embeddings.create({ model: proxied, input, encoding_format: "float" }, { headers: { "x-agenticorp-cache": "bypass" } })
      .withResponse();
    expect(first.response.headers.get("x-agenticorp-cache")).toBe("miss");
    expect(second.response.headers.get("x-agenticorp-cache")).toBe("hit");
    expect(bypassed.response.headers.get("x-agenticorp-cache")).toBe("bypass");
    expect(second.data.data[0]!.embedding).toEqual(first.data.data[0]!.embedding);
    expect(upstream.requests.filter((r) => r.path === "/v1/embeddings")).toHaveLength(2);
  });

  it("refuses bad input in OpenAI's shape, naming the field, and models the key may not use", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ model: simulated }, "input"],
      [{ model: simulated, input: "" }, "input"],
      [{ model: simulated, input: [] }, "input"],
      [{ model: simulated, input: "x", dimensions: 0 }, "dimensions"],
      [{ model: simulated, input: "x", encoding_format: "int8" }, "encoding_format"],
    ];
    for (const [body, param] of cases) {
      const error = await client()
        .embeddings.create(body as never)
        .catch((e: unknown) => e);
      expect(error, JSON.stringify(body)).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).param, JSON.stringify(body)).toBe(param);
    }
    const refused = await client(chatOnlyKey)
      .embeddings.create({ model: simulated, input: "x" })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermissionDeniedError);
    expect((refused as PermissionDeniedError).code).toBe("model_not_allowed");
  });

  it("counts embeddings under their own endpoint label", async () => {
    await client().embeddings.create({ model: simulated, input: "count me" });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const answered = metrics
      .split("\n")
      .filter(
        (l) =>
          l.startsWith("agenticorp_gateway_requests_total{") &&
          l.includes('endpoint="embeddings"') &&
          l.includes(`model="${simulated}"`) &&
          l.includes('status="200"'),
      )
      .reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
    // One in the first test, two in the second, this one.
    expect(answered).toBe(4);
  });
});

describe("embeddings with the AI SDK and LangChain", () => {
  it("embed and embedMany through @ai-sdk/openai", async () => {
    const provider = createOpenAI({ apiKey: key, baseURL: `${server.url}/v1` });
    const one = await embed({ model: provider.embedding(simulated), value: "sunny day at the beach", maxRetries: 0 });
    expect(one.embedding).toHaveLength(1536);
    expect(norm(one.embedding)).toBeCloseTo(1, 5);
    const many = await embedMany({
      model: provider.embedding(simulated),
      values: ["sunny day at the beach", "rainy night in the city"],
      maxRetries: 0,
    });
    expect(many.embeddings).toHaveLength(2);
    expect(many.embeddings[0]).toEqual(one.embedding);
  });

  it("embedQuery and embedDocuments through @langchain/openai", async () => {
    const embeddings = new OpenAIEmbeddings({
      model: proxied,
      apiKey: key,
      configuration: { baseURL: `${server.url}/v1` },
      maxRetries: 0,
    });
    const query = await embeddings.embedQuery("where is the invoice?");
    expect(query).toEqual(standInEmbedding("where is the invoice?", 1536));
    const documents = await embeddings.embedDocuments(["first document", "second document"]);
    expect(documents).toEqual([standInEmbedding("first document", 1536), standInEmbedding("second document", 1536)]);
  });
});
