// Each way an upstream call ends carries its own reason (lib/data-plane/providers/types.ts), never one
// borrowed from another cause: the router decides blame, failover and the circuit from it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cancellation, sleepUnlessCancelled } from "../../lib/data-plane/providers/cancellation";
import { OpenAICompatibleProvider } from "../../lib/data-plane/providers/openai-compatible";
import { type UpstreamFailure, type Timeouts } from "../../lib/data-plane/providers/types";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";

const timeouts: Timeouts = { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 };
let upstream: OpenAIStandIn;
const providers: OpenAICompatibleProvider[] = [];
const provider = (apiKey: string) => {
  const created = new OpenAICompatibleProvider({ baseUrl: upstream.url, apiKey, timeouts });
  providers.push(created);
  return created;
};
const call = (model = "gpt-4o") => ({ body: { model, messages: [{ role: "user", content: "hi" }] }, signal: new Cancellation() });

beforeAll(async () => {
  upstream = await startOpenAIStandIn({ apiKey: "right-key" });
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  await upstream.close();
});

describe("an OpenAI-compatible upstream's answers", () => {
  it("a 401 for our key is auth_rejected, retried elsewhere only, and keeps the upstream's words (which may quote the key) out", async () => {
    const failure = (await provider("revoked-key")
      .complete(call())
      .catch((e) => e)) as UpstreamFailure;
    expect(failure).toMatchObject({
      reason: "auth_rejected",
      status: 401,
      retryable: true,
      sameDeploymentMayRecover: false,
      blamesDeployment: true,
    });
    expect(failure.message).toBe("upstream answered 401");
    expect(failure.upstreamError).toBeUndefined();
  });

  it("a 404 for the model is model_not_found; a 403 is auth_rejected", async () => {
    expect(
      await provider("right-key")
        .complete(call("retired-model"))
        .catch((e) => e),
    ).toMatchObject({ reason: "model_not_found", status: 404, sameDeploymentMayRecover: false });
    upstream.setBehaviour({ failNext: { count: 1, status: 403 } });
    expect(
      await provider("right-key")
        .complete(call())
        .catch((e) => e),
    ).toMatchObject({ reason: "auth_rejected", status: 403 });
  });

  it.each([400, 413, 422])(
    "a %i is the request's own fault: client_error with the upstream's error passed on, not retried, not blamed",
    async (status) => {
      upstream.setBehaviour({ failNext: { count: 1, status } });
      const failure = (await provider("right-key")
        .complete(call())
        .catch((e) => e)) as UpstreamFailure;
      expect(failure).toMatchObject({ reason: "client_error", status, retryable: false, blamesDeployment: false });
      expect(failure.upstreamError?.type).toBe("invalid_request_error");
    },
  );

  it("the console's probe classifies statuses the same way", async () => {
    expect(
      await provider("revoked-key")
        .probe(AbortSignal.timeout(5_000))
        .catch((e) => e),
    ).toMatchObject({ reason: "auth_rejected", status: 401 });
  });

  it("a probe abandoned on purpose is cancelled, one that ran out of time is a timeout", async () => {
    upstream.setBehaviour({ headerDelayMs: 2_000 });
    try {
      const stopped = new AbortController();
      const probing = provider("right-key")
        .probe(stopped.signal)
        .catch((e) => e);
      setTimeout(() => stopped.abort(), 20);
      expect(await probing).toMatchObject({ reason: "cancelled", blamesDeployment: false });
      expect(
        await provider("right-key")
          .probe(AbortSignal.timeout(50))
          .catch((e) => e),
      ).toMatchObject({ reason: "timeout_total", blamesDeployment: true });
    } finally {
      upstream.setBehaviour({});
    }
  });
});

describe("sleepUnlessCancelled", () => {
  it("rejects a signal aborted without a reason as cancelled, not as a timeout", async () => {
    const signal = { aborted: true, reason: undefined, on: () => signal, once: () => signal, removeListener: () => signal };
    await expect(sleepUnlessCancelled(10, signal)).rejects.toMatchObject({ reason: "cancelled" });
  });
});
