// Reads a batch input file (JSONL, one request per line) into jobs, or into the line-numbered reasons it
// cannot run. A file with any malformed line is refused as a whole at validation (OpenAI does the same);
// a well-formed request the gateway then refuses (an unknown model, a bad parameter) is one failed line
// in the error file, not a failed batch.
import type { BatchErrorEntry } from "./shapes";

export interface InputLine {
  /** 1-based line number in the file. */
  lineNo: number;
  customId: string;
  body: Record<string, unknown>;
}

export type ParsedInput = { ok: true; lines: InputLine[] } | { ok: false; errors: BatchErrorEntry[] };

/** Errors reported per refused file at most (the first ones; OpenAI's `errors.data` is a short list too). */
export const MAX_REPORTED_ERRORS = 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function checkLine(text: string, lineNo: number, endpoint: string, seen: Set<string>): InputLine | BatchErrorEntry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { code: "invalid_json_line", line: lineNo, message: `Line ${lineNo} is not valid JSON.` };
  }
  if (!isObject(parsed)) return { code: "invalid_json_line", line: lineNo, message: `Line ${lineNo} is not a JSON object.` };
  const { custom_id: customId, method, url, body } = parsed;
  if (typeof customId !== "string" || customId.length === 0 || customId.length > 512) {
    return {
      code: "missing_required_parameter",
      line: lineNo,
      param: "custom_id",
      message: `Line ${lineNo} needs a custom_id: a string of 1 to 512 characters.`,
    };
  }
  if (seen.has(customId)) {
    return {
      code: "duplicate_custom_id",
      line: lineNo,
      param: "custom_id",
      message: `Line ${lineNo} repeats the custom_id '${customId.slice(0, 64)}': each must be unique in the file.`,
    };
  }
  if (method !== "POST")
    return { code: "invalid_method", line: lineNo, param: "method", message: `Line ${lineNo}: method must be "POST".` };
  if (url !== endpoint) {
    return {
      code: "mismatched_url",
      line: lineNo,
      param: "url",
      message: `Line ${lineNo}: url must be the batch's endpoint ${endpoint} (got ${JSON.stringify(url)?.slice(0, 80)}).`,
    };
  }
  if (!isObject(body))
    return {
      code: "invalid_body",
      line: lineNo,
      param: "body",
      message: `Line ${lineNo}: body must be a JSON object (the request).`,
    };
  seen.add(customId);
  return { lineNo, customId, body };
}

/** Parses and checks every line; blank lines are skipped (a trailing newline is not a request). */
export function parseInputLines(content: string, endpoint: string, maxLines: number): ParsedInput {
  const lines: InputLine[] = [];
  const errors: BatchErrorEntry[] = [];
  const seen = new Set<string>();
  const texts = content.split("\n");
  for (let index = 0; index < texts.length; index++) {
    const text = texts[index]!.trim();
    if (text === "") continue;
    const checked = checkLine(text, index + 1, endpoint, seen);
    if ("customId" in checked) lines.push(checked);
    else if (errors.length < MAX_REPORTED_ERRORS) errors.push(checked);
  }
  if (errors.length > 0) return { ok: false, errors };
  if (lines.length === 0)
    return { ok: false, errors: [{ code: "empty_file", line: null, message: "The input file has no requests." }] };
  if (lines.length > maxLines) {
    return {
      ok: false,
      errors: [
        {
          code: "too_many_requests",
          line: null,
          message: `The input file has ${lines.length} requests; a batch may have at most ${maxLines}.`,
        },
      ],
    };
  }
  return { ok: true, lines };
}
