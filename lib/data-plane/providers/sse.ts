// A minimal Server-Sent Events reader: yields the `data:` payload of each event, in order.
// (The npm parsers that fit need Node 22; the format is small enough to read directly.)
export async function* readSseData(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of chunks) {
    buffer += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let boundary: number;
    while ((boundary = nextBoundary(buffer)) !== -1) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^(\r\n|\r|\n){2}/, "");
      const data = dataOf(event);
      if (data !== undefined) yield data;
    }
  }
  const data = dataOf(buffer);
  if (data !== undefined && buffer.trim() !== "") yield data;
}

function nextBoundary(buffer: string): number {
  const match = /(\r\n|\r|\n)(\r\n|\r|\n)/.exec(buffer);
  return match ? match.index : -1;
}

function dataOf(event: string): string | undefined {
  const lines = event.split(/\r\n|\r|\n/).filter((line) => line.startsWith("data:"));
  if (lines.length === 0) return undefined;
  return lines.map((line) => line.slice(line.startsWith("data: ") ? 6 : 5)).join("\n");
}
