// OpenAI's Responses API request (POST /v1/responses), as far as the gateway translates it to chat.
// Objects are loose so that fields clients send by default (include, truncation, service_tier…)
// are accepted; only what has a chat equivalent reaches the upstream.
import { z } from "zod";

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// A string is shorthand for one text part; turning it into a part here keeps unions (whose errors
// cannot name the offending field) out of the schema.
const asTextParts = (value: unknown) => (typeof value === "string" ? [{ type: "input_text", text: value }] : value);

const contentPart = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("input_text"), text: z.string() }),
    z.looseObject({ type: z.literal("output_text"), text: z.string() }),
    z.looseObject({ type: z.literal("refusal"), refusal: z.string() }),
    z.looseObject({
      type: z.literal("input_image"),
      image_url: z.string().min(1, "the gateway needs the image inline or by URL (file ids are not supported)"),
      detail: z.enum(["low", "high", "auto"]).nullish(),
    }),
    z.looseObject({
      type: z.literal("input_file"),
      file_data: z.string().nullish(),
      file_id: z.string().nullish(),
      filename: z.string().nullish(),
    }),
  ],
  {
    error: (issue) =>
      issue.code === "invalid_union"
        ? "content part type must be input_text, input_image, input_file, output_text or refusal"
        : undefined,
  },
);
const content = z.preprocess(asTextParts, z.array(contentPart));

const messageItem = z.looseObject({
  type: z.literal("message"),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content,
});
const functionCallItem = z.looseObject({
  type: z.literal("function_call"),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
const functionCallOutputItem = z.looseObject({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: content,
});

const SUPPORTED_ITEMS = "message, function_call or function_call_output";
const inputItem = z.preprocess(
  // Messages may leave out their type ("easy input messages").
  (value) => (isObject(value) && value.type === undefined ? { ...value, type: "message" } : value),
  z.discriminatedUnion("type", [messageItem, functionCallItem, functionCallOutputItem], {
    error: (issue) =>
      issue.code === "invalid_union"
        ? `input item type must be ${SUPPORTED_ITEMS}; this gateway does not store responses, so item references and hosted-tool items cannot be resolved: send the items themselves (@ai-sdk/openai does with providerOptions.openai.store = false)`
        : undefined,
  }),
);

const functionTool = z.looseObject({
  type: z.literal("function", { error: "only function tools are supported" }),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const namedFunction = z.looseObject({
  type: z.literal("function", { error: "only function tools can be chosen" }),
  name: z.string().min(1),
});

const textFormat = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("text") }),
    z.looseObject({ type: z.literal("json_object") }),
    z.looseObject({
      type: z.literal("json_schema"),
      name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
      schema: z.record(z.string(), z.unknown()),
      description: z.string().nullish(),
      strict: z.boolean().nullish(),
    }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? "format type must be text, json_object or json_schema" : undefined) },
);

export const responsesRequest = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.preprocess(
    (value) => (typeof value === "string" ? [{ type: "message", role: "user", content: value }] : value),
    z.array(inputItem).min(1, "must contain at least one item"),
  ),
  instructions: z.string().nullish(),
  tools: z.array(functionTool).max(128).nullish(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), namedFunction]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.looseObject({ format: textFormat.nullish() }).nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullish(),
  user: z.string().max(256).nullish(),
  reasoning: z.looseObject({ effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullish() }).nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullish(),
  prompt: z.unknown().optional(),
});

export type ResponsesRequest = z.infer<typeof responsesRequest>;
export type InputItem = ResponsesRequest["input"][number];
export type ContentPart = z.infer<typeof contentPart>;
