// Batch input files for tests and the bench: JSONL lines in OpenAI's batch request shape, and the
// output/error files read back as lines.
import { toFile, type OpenAI } from "openai";

export interface BatchLine {
  custom_id: string;
  method: "POST";
  url: string;
  body: Record<string, unknown>;
}

export function chatLines(count: number, model: string, prefix = "req"): BatchLine[] {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: `${prefix}-${i}`,
    method: "POST" as const,
    url: "/v1/chat/completions",
    body: { model, messages: [{ role: "user", content: `question ${prefix} ${i}` }], max_tokens: 8 },
  }));
}

export const toJsonl = (lines: unknown[]) => lines.map((line) => JSON.stringify(line)).join("\n") + "\n";

/** Uploads `lines` and creates a chat completions batch of them with the openai SDK, as a client does. */
export async function submitChatBatch(client: OpenAI, lines: BatchLine[]): Promise<OpenAI.Batches.Batch> {
  const file = await client.files.create({ file: await toFile(Buffer.from(toJsonl(lines)), "in.jsonl"), purpose: "batch" });
  return client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
}

export interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

export const parseJsonl = (text: string): OutputLine[] =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as OutputLine);
