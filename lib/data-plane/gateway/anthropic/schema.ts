// Anthropic's Messages API request (POST /v1/messages) and its token count
// (POST /v1/messages/count_tokens), as far as the gateway serves them; shapes follow
// @anthropic-ai/sdk's resources/messages. Objects are loose: fields the gateway does not use
// (cache_control, citations, thinking, service_tier…) are accepted and not passed on.
import { z } from "zod";

const unsupportedType = (what: string) => (issue: { code: string }) =>
  issue.code === "invalid_union" ? `unsupported ${what}` : undefined;

const textBlock = z.looseObject({ type: z.literal("text"), text: z.string() });

const imageSource = z.discriminatedUnion(
  "type",
  [
    z.looseObject({
      type: z.literal("base64"),
      media_type: z.enum(["image/jpeg", "image/png", "image/gif", "image/webp"]),
      data: z.string().min(1),
    }),
    z.looseObject({ type: z.literal("url"), url: z.url({ protocol: /^https?$/ }) }),
  ],
  { error: unsupportedType("image source type (base64 and url are supported)") },
);
const imageBlock = z.looseObject({ type: z.literal("image"), source: imageSource });

const toolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});

// A chat upstream's tool message holds text only, so a tool result does too.
const toolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1),
  content: z
    .union([
      z.string(),
      z.array(
        z.discriminatedUnion("type", [textBlock], {
          error: unsupportedType("tool_result content block type (text is supported)"),
        }),
      ),
    ])
    .optional(),
  is_error: z.boolean().optional(),
});

// Claude's own reasoning, sent back by clients that replay a conversation: no chat upstream takes it.
const thinkingBlock = z.looseObject({ type: z.enum(["thinking", "redacted_thinking"]) });

const contentBlock = z.discriminatedUnion("type", [textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock], {
  error: unsupportedType("content block type (text, image, tool_use, tool_result and thinking are supported)"),
});
export type ContentBlock = z.infer<typeof contentBlock>;

const content = z.union([z.string(), z.array(contentBlock)]);

const message = z.discriminatedUnion("role", [
  z.looseObject({ role: z.literal("user"), content }),
  z.looseObject({ role: z.literal("assistant"), content }),
  z.looseObject({ role: z.literal("system"), content: z.union([z.string(), z.array(textBlock)]) }),
]);
export type MessageParam = z.infer<typeof message>;

const system = z.union([z.string(), z.array(textBlock)]);

// Custom tools only: Anthropic's server tools (web search, bash, computer…) have no chat form.
const tool = z.looseObject({
  type: z.union([z.literal("custom"), z.null()]).optional(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
  description: z.string().optional(),
  input_schema: z.looseObject({ type: z.literal("object") }),
});
export type Tool = z.infer<typeof tool>;

const toolChoice = z.discriminatedUnion(
  "type",
  [
    z.looseObject({ type: z.literal("auto"), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal("any"), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal("tool"), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal("none") }),
  ],
  { error: unsupportedType("tool_choice type (auto, any, tool and none are supported)") },
);
export type ToolChoice = z.infer<typeof toolChoice>;

const promptFields = {
  model: z.string().min(1).max(256),
  messages: z.array(message).min(1, "must contain at least one message"),
  system: system.optional(),
  tools: z.array(tool).max(128).optional(),
  tool_choice: toolChoice.optional(),
};

export const countTokensRequest = z.looseObject(promptFields);
export type CountTokensRequest = z.infer<typeof countTokensRequest>;

export const messagesRequest = z.looseObject({
  ...promptFields,
  max_tokens: z.number().int().min(1),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  // No chat upstream has top_k: it is validated and not passed on.
  top_k: z.number().int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().max(256).nullable().optional() }).optional(),
  stream: z.boolean().optional(),
});
export type MessagesRequest = z.infer<typeof messagesRequest>;
