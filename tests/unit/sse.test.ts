import { describe, expect, it } from "vitest";
import { readSseData } from "../../lib/data-plane/providers/sse";

async function collect(chunks: string[]) {
  const out: string[] = [];
  for await (const data of readSseData(
    (async function* () {
      yield* chunks.map((c) => Buffer.from(c));
    })(),
  ))
    out.push(data);
  return out;
}

describe("readSseData", () => {
  it("yields each event's data, across arbitrary chunk boundaries", async () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\n\n: comment\n\ndata: [DONE]\n\n';
    for (let cut = 1; cut < stream.length; cut += 3) {
      expect(await collect([stream.slice(0, cut), stream.slice(cut)])).toEqual(['{"a":1}', '{"b":2}', "[DONE]"]);
    }
  });

  it("accepts CRLF line ends, data without a space, multi-line data and a last event without a blank line", async () => {
    expect(await collect(["data:x\r\n\r\ndata: one\ndata: two\n\n", "event: ping\ndata: last"])).toEqual([
      "x",
      "one\ntwo",
      "last",
    ]);
  });

  it("keeps multi-byte characters split between chunks intact", async () => {
    const bytes = Buffer.from('data: {"t":"héllo ✓"}\n\n');
    const out: string[] = [];
    for await (const d of readSseData(
      (async function* () {
        yield bytes.subarray(0, 14);
        yield bytes.subarray(14);
      })(),
    ))
      out.push(d);
    expect(out).toEqual(['{"t":"héllo ✓"}']);
  });
});
