// Batch input files for tests and the bench: JSONL lines in OpenAI's batch request shape, and the
// output/error files read back as lines.

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
