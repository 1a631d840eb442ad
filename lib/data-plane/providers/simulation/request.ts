// What the simulator reads from a chat-completion request, and how it turns a request it cannot
// answer into the 400 an upstream would give (a client error: not retried, not the deployment's fault).
import { z } from "zod";
import { UpstreamFailure } from "../types";

/** More choices than this is a 400: n multiplies the work of one request, and load tests need no more. */
const MAX_CHOICES = 8;

const functionTool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const message = z.looseObject({
  role: z.string(),
  content: z.unknown().optional(),
  tool_calls: z.array(z.looseObject({ id: z.string(), function: z.looseObject({ name: z.string() }) })).nullish(),
  tool_call_id: z.string().nullish(),
});

const responseFormat = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text") }),
  z.looseObject({ type: z.literal("json_object") }),
  z.looseObject({
    type: z.literal("json_schema"),
    json_schema: z.looseObject({
      name: z.string(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const simulatedChatRequest = z.looseObject({
  model: z.string(),
  messages: z.array(message).min(1),
  n: z.number().int().min(1).max(MAX_CHOICES, `the simulator answers at most ${MAX_CHOICES} choices`).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  tools: z.array(functionTool).nullish(),
  tool_choice: z
    .union([
      z.enum(["none", "auto", "required"]),
      z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
});
export type SimulatedChatRequest = z.infer<typeof simulatedChatRequest>;
export type SimulatedTool = z.infer<typeof functionTool>;
export type SimulatedMessage = z.infer<typeof message>;

/** A 400 in OpenAI's error shape, as the upstream's own answer. */
export function invalidRequest(param: string | null, message: string, code = "invalid_value"): UpstreamFailure {
  return new UpstreamFailure("client_error", `upstream answered 400: ${message}`, 400, {
    message,
    type: "invalid_request_error",
    param,
    code,
  });
}

/** The 400 for the first problem zod found, naming the field as OpenAI does (`tools[0].function.name`). */
export function invalidField(issues: readonly z.core.$ZodIssue[]): UpstreamFailure {
  const issue = issues[0];
  const param = (issue?.path ?? []).reduce<string>(
    (out, key) => (typeof key === "number" ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    "",
  );
  return invalidRequest(param || null, `Invalid value for '${param || "body"}': ${issue?.message ?? "invalid request"}.`);
}

/** Parses the body, and checks what one field alone cannot say. */
export function parseSimulatedChatRequest(body: Record<string, unknown>): SimulatedChatRequest {
  const parsed = simulatedChatRequest.safeParse(body);
  if (!parsed.success) throw invalidField(parsed.error.issues);
  const request = parsed.data;
  const choice = request.tool_choice;
  const tools = request.tools ?? [];
  if (choice != null && choice !== "none" && tools.length === 0) {
    throw invalidRequest(
      "tool_choice",
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
    );
  }
  if (typeof choice === "object" && choice !== null && !tools.some((tool) => tool.function.name === choice.function.name)) {
    throw invalidRequest(
      "tool_choice",
      `Invalid value for 'tool_choice': function '${choice.function.name}' is not one of the 'tools'.`,
    );
  }
  return request;
}
