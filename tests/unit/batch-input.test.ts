// Batch input files read into jobs, or refused with their bad lines; the live-load signals batch work
// yields to; the batch credential and budget id.
import { describe, expect, it } from "vitest";
import { batchBudgetId, batchKeyId, batchRequestHeaders } from "../../lib/data-plane/batch/internal-auth";
import { MAX_REPORTED_ERRORS, parseInputLines } from "../../lib/data-plane/batch/input-lines";
import { LoadSignals } from "../../lib/data-plane/batch/load-signals";

const line = (customId: string, extra: object = {}) =>
  JSON.stringify({ custom_id: customId, method: "POST", url: "/v1/chat/completions", body: { model: "m" }, ...extra });

describe("parseInputLines", () => {
  it("reads every request with its 1-based line number, skipping blank lines and CRLF endings", () => {
    const parsed = parseInputLines(`${line("a")}\r\n\n${line("b")}\n`, "/v1/chat/completions", 10);
    expect(parsed).toEqual({
      ok: true,
      lines: [
        { lineNo: 1, customId: "a", body: { model: "m" } },
        { lineNo: 3, customId: "b", body: { model: "m" } },
      ],
    });
  });

  it("refuses the file naming each bad line and why", () => {
    const text = [
      line("a"),
      "[1,2]",
      "{",
      line(""),
      line("a"),
      line("c", { method: "GET" }),
      line("d", { url: "/v1/embeddings" }),
      line("e", { body: [] }),
    ].join("\n");
    const parsed = parseInputLines(text, "/v1/chat/completions", 10);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors.map((e) => [e.line, e.code, e.param ?? null])).toEqual([
      [2, "invalid_json_line", null],
      [3, "invalid_json_line", null],
      [4, "missing_required_parameter", "custom_id"],
      [5, "duplicate_custom_id", "custom_id"],
      [6, "invalid_method", "method"],
      [7, "mismatched_url", "url"],
      [8, "invalid_body", "body"],
    ]);
  });

  it("refuses an empty file and one over the line limit, and reports at most the first errors", () => {
    expect(parseInputLines("\n\n", "/v1/embeddings", 10)).toEqual({
      ok: false,
      errors: [{ code: "empty_file", line: null, message: "The input file has no requests." }],
    });
    const three = [line("a"), line("b"), line("c")].join("\n");
    expect(parseInputLines(three, "/v1/chat/completions", 2)).toMatchObject({
      ok: false,
      errors: [{ code: "too_many_requests", line: null }],
    });
    const bad = Array.from({ length: MAX_REPORTED_ERRORS + 50 }, () => "nope").join("\n");
    const parsed = parseInputLines(bad, "/v1/chat/completions", 1_000);
    expect(parsed.ok ? 0 : parsed.errors.length).toBe(MAX_REPORTED_ERRORS);
  });
});

describe("LoadSignals", () => {
  it("reports the p95 of live latencies within the window, none with too few samples, and the time since a 429", () => {
    let now = 0;
    const signals = new LoadSignals(30_000, () => now);
    for (let i = 1; i <= 19; i++) signals.recordLiveLatency(i);
    expect(signals.liveP95Ms()).toBeNull();
    now = 2_000;
    for (let i = 1; i <= 100; i++) signals.recordLiveLatency(i * 10);
    now = 3_100;
    expect(signals.liveP95Ms()).toBe(950);
    now = 40_000; // every sample is older than the window
    expect(signals.liveP95Ms()).toBeNull();
    expect(signals.sinceLast429Ms()).toBe(Infinity);
    signals.recordUpstream429();
    now = 40_500;
    expect(signals.sinceLast429Ms()).toBe(500);
    expect(signals.upstream429Count).toBe(1);
  });
});

describe("the batch credential", () => {
  const keyId = "2cdaa071-27e0-482a-be65-085ad1c700f1";

  it("names the key for this process's own token only", () => {
    expect(batchKeyId(batchRequestHeaders(keyId))).toBe(keyId);
    expect(batchKeyId({})).toBeUndefined();
    expect(batchKeyId({ ...batchRequestHeaders(keyId), "x-agenticorp-batch-token": "forged" })).toBe(false);
    expect(batchKeyId({ "x-agenticorp-batch-token": batchRequestHeaders(keyId)["x-agenticorp-batch-token"] })).toBe(false);
  });

  it("gives a key's batch traffic a budget id of its own that no generated key id can equal", () => {
    const budget = batchBudgetId(keyId);
    expect(budget).not.toBe(keyId);
    expect(budget).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-c[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(batchBudgetId(keyId)).toBe(budget);
  });
});
