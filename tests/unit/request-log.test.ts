// The request log's pure parts: which finished requests are kept, how bodies are cut, how a
// record counts retries and fallbacks from its attempts.
import { describe, expect, it } from "vitest";
import { RequestRecord } from "../../lib/data-plane/request-log/record";
import { keepDecision, truncateBody } from "../../lib/data-plane/request-log/request-log";
import { UpstreamFailure } from "../../lib/data-plane/providers/types";

describe("keepDecision", () => {
  const never = () => 0.999_999;
  const always = () => 0;
  it("keeps every error whatever the rate, and every slow request", () => {
    for (const status of [400, 401, 404, 415, 429, 499, 500, 502, 504])
      expect(keepDecision(status, 1, { sampleRate: 0, slowMs: 1_000 }, never)).toBe("error");
    expect(keepDecision(200, 1_000, { sampleRate: 0, slowMs: 1_000 }, never)).toBe("slow");
    expect(keepDecision(200, 999, { sampleRate: 0, slowMs: 1_000 }, always)).toBeNull();
  });
  it("samples fast successes below the rate only", () => {
    expect(keepDecision(200, 5, { sampleRate: 0.25, slowMs: 1_000 }, () => 0.2499)).toBe("sampled");
    expect(keepDecision(200, 5, { sampleRate: 0.25, slowMs: 1_000 }, () => 0.25)).toBeNull();
    expect(keepDecision(200, 5, { sampleRate: 1, slowMs: 1_000 }, never)).toBe("sampled");
  });
});

describe("truncateBody", () => {
  it("leaves a body within the limit as it is", () => {
    expect(truncateBody("héllo", 6)).toBe("héllo");
  });
  it("cuts at the byte limit without splitting a character, and says so", () => {
    const cut = truncateBody("ééééé", 5); // 10 bytes; 5 bytes end inside the third é
    expect(cut).toBe("éé…[truncated at 5 bytes]");
    expect(cut).not.toContain("\uFFFD");
  });
});

describe("RequestRecord", () => {
  it("counts retries and the moves to another deployment", () => {
    const record = new RequestRecord("chat");
    record.attempt("a/x", "a", 5, new UpstreamFailure("server_error", "boom", 503));
    record.attempt("a/x", "a", 5, new UpstreamFailure("timeout_total", "slow"));
    record.attempt("b/y", "b", 5);
    expect(record.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ["server_error", 503],
      ["timeout_total", null],
      ["ok", null],
    ]);
    expect([record.retries, record.fallbacks]).toEqual([2, 1]);
  });
  it("marks a stream that failed after its first event, or that its client left", () => {
    const failed = new RequestRecord("chat");
    failed.attempt("a/x", "a", 5);
    failed.streamEnded({ ok: false, failure: new UpstreamFailure("protocol", "cut off") });
    expect([failed.statusOverride, failed.attempts[0]!.outcome, failed.errorCode]).toEqual([
      502,
      "protocol",
      "stream_interrupted",
    ]);
    const left = new RequestRecord("chat");
    left.streamEnded(undefined);
    expect(left.statusOverride).toBe(499);
  });
});
