// OpenAI's chat completion request, as far as the gateway needs to understand it. Objects are
// loose: fields the gateway does not know pass through to the upstream untouched.
import { z } from "zod";
import { BadRequestError } from "../../platform/errors";

const textPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const otherPart = z.looseObject({ type: z.string().min(1) });
const content = z.union([z.string(), z.array(z.union([textPart, otherPart])).min(1)]);

const toolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const message = z.discriminatedUnion("role", [
  z.looseObject({ role: z.literal("system"), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal("developer"), content, name: z.string().optional() }),
  z.looseObject({ role: z.literal("user"), content, name: z.string().optional() }),
  z.looseObject({
    role: z.literal("assistant"),
    content: content.nullable().optional(),
    tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
  }),
  z.looseObject({ role: z.literal("tool"), content, tool_call_id: z.string() }),
  z.looseObject({ role: z.literal("function"), content: z.string().nullable(), name: z.string() }),
]);

const tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const chatCompletionRequest = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z.array(message).min(1, "must contain at least one message"),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  max_tokens: z.number().int().min(1).nullable().optional(),
  max_completion_tokens: z.number().int().min(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().max(256).optional(),
  tools: z.array(tool).max(128).optional(),
  tool_choice: z
    .union([
      z.enum(["none", "auto", "required"]),
      z.looseObject({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
    ])
    .optional(),
  response_format: z
    .union([
      z.looseObject({ type: z.literal("text") }),
      z.looseObject({ type: z.literal("json_object") }),
      z.looseObject({ type: z.literal("json_schema"), json_schema: z.looseObject({ name: z.string() }) }),
    ])
    .optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

function paramPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)),
    "",
  );
}

/** Validates a parsed JSON body; a violation becomes a 400 naming the field. */
export function parseChatCompletionRequest(body: unknown): ChatCompletionRequest {
  return parseRequestBody(chatCompletionRequest, body);
}

/** Validates a parsed JSON body against an endpoint's schema; a violation becomes a 400 naming the field. */
export function parseRequestBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequestError("Request body must be a JSON object.", { code: "invalid_request" });
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = closestIssue(result.error.issues[0]!);
  const param = paramPath(issue.path);
  const problem = issue.code === "invalid_union" && issue.path.at(-1) === "role" ? "unsupported role" : issue.message;
  return badField(param, problem, valueAt(body, issue.path) === undefined);
}

/**
 * A union's failure told by its closest branch, the one that got furthest into the value: "content
 * must be a string" says less about an array of blocks than what is wrong with the third block.
 */
function closestIssue(issue: z.core.$ZodIssue, at: PropertyKey[] = []): z.core.$ZodIssue {
  const path = [...at, ...issue.path];
  let best: z.core.$ZodIssue = { ...issue, path };
  if (issue.code !== "invalid_union") return best;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = closestIssue(inner, path);
      if (candidate.path.length > best.path.length) best = candidate;
    }
  }
  return best;
}

function valueAt(body: unknown, path: PropertyKey[]): unknown {
  let value: unknown = body;
  for (const part of path)
    value = value === null || typeof value !== "object" ? undefined : (value as Record<PropertyKey, unknown>)[part];
  return value;
}

function badField(param: string, problem: string, missing: boolean): never {
  throw new BadRequestError(
    missing ? `Missing required parameter: '${param}'.` : `Invalid value for '${param || "body"}': ${problem}.`,
    { param: param || null, code: missing ? "missing_required_parameter" : "invalid_value" },
  );
}
