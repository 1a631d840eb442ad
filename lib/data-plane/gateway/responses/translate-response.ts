// Chat completions told as Responses API objects: the response shell (echoing the request's
// settings, as OpenAI does), output items (message, function_call), usage and status.
import { randomBytes } from "node:crypto";
import type { ChatAnswer, ChatUsage } from "../chat-answer";
import { withoutNulls } from "../without-nulls";
import type { ResponsesRequest } from "./schema";

/** OpenAI-style ids: a prefix and 48 hex digits (resp_…, msg_…, fc_…). */
export const newItemId = (prefix: "resp" | "msg" | "fc") => `${prefix}_${randomBytes(24).toString("hex")}`;

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

export interface OutputText {
  type: "output_text";
  text: string;
  annotations: never[];
  logprobs: never[];
}
export interface Refusal {
  type: "refusal";
  refusal: string;
}
export interface MessageItem {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: Array<OutputText | Refusal>;
}
export interface FunctionCallItem {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed" | "incomplete";
}
export type OutputItem = MessageItem | FunctionCallItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** What a response's body is built from, besides its output. */
export interface ResponseContext {
  id: string;
  request: ResponsesRequest;
}

export interface ResponseState {
  createdAt: number;
  status: ResponseStatus;
  output: OutputItem[];
  usage?: ResponseUsage;
  incompleteReason?: "max_output_tokens" | "content_filter";
}

export const outputText = (text: string): OutputText => ({ type: "output_text", text, annotations: [], logprobs: [] });

export function responseUsage(usage: ChatUsage | null | undefined): ResponseUsage | undefined {
  if (!usage) return undefined;
  const input = usage.prompt_tokens ?? 0;
  const output = usage.completion_tokens ?? 0;
  return {
    input_tokens: input,
    // Chat reports no cache writes.
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens ?? input + output,
  };
}

/** How a chat finish_reason ends a response: cut short (incomplete) or done. */
export function endingOf(finishReason: string | null | undefined): Pick<ResponseState, "status" | "incompleteReason"> {
  if (finishReason === "length") return { status: "incomplete", incompleteReason: "max_output_tokens" };
  if (finishReason === "content_filter") return { status: "incomplete", incompleteReason: "content_filter" };
  return { status: "completed" };
}

/** The `response` object: OpenAI echoes the request's settings, with its defaults where unset. */
export function responseObject({ id, request }: ResponseContext, state: ResponseState) {
  return {
    id,
    object: "response" as const,
    created_at: state.createdAt,
    status: state.status,
    background: false,
    error: null,
    incomplete_details: state.incompleteReason ? { reason: state.incompleteReason } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    model: request.model,
    output: state.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    // Nothing is kept: the response cannot be retrieved later, whatever the client asked.
    store: false,
    temperature: request.temperature ?? 1,
    text: { format: request.text?.format ? withoutNulls(request.text.format) : { type: "text" as const } },
    tool_choice: request.tool_choice ?? ("auto" as const),
    tools: (request.tools ?? []).map((tool) => ({
      ...tool,
      description: tool.description ?? null,
      parameters: tool.parameters ?? null,
      strict: tool.strict ?? null,
    })),
    top_p: request.top_p ?? 1,
    truncation: "disabled" as const,
    usage: state.usage,
    user: request.user ?? undefined,
  };
}

/** The text of every output_text part, joined: the SDKs' `output_text`. */
function outputTextOf(output: OutputItem[]): string {
  return output
    .flatMap((item) =>
      item.type === "message" ? item.content.flatMap((part) => (part.type === "output_text" ? [part.text] : [])) : [],
    )
    .join("");
}

/** A non-streaming chat completion as a complete `response` object. */
export function completionToResponse(context: ResponseContext, completion: ChatAnswer) {
  const choice = completion.choices?.[0];
  const ending = endingOf(choice?.finish_reason);
  const itemStatus = ending.status === "incomplete" ? "incomplete" : "completed";
  const output: OutputItem[] = [];
  const message = choice?.message;
  const parts: MessageItem["content"] = [];
  if (message?.content) parts.push(outputText(message.content));
  if (message?.refusal) parts.push({ type: "refusal", refusal: message.refusal });
  if (parts.length > 0)
    output.push({ type: "message", id: newItemId("msg"), status: itemStatus, role: "assistant", content: parts });
  for (const call of message?.tool_calls ?? []) {
    output.push({
      type: "function_call",
      id: newItemId("fc"),
      call_id: call.id ?? newItemId("fc"),
      name: call.function?.name ?? "",
      arguments: call.function?.arguments ?? "",
      status: "completed",
    });
  }
  const response = responseObject(context, {
    createdAt: completion.created ?? Math.floor(Date.now() / 1000),
    ...ending,
    output,
    usage: responseUsage(completion.usage),
  });
  return { ...response, output_text: outputTextOf(output) };
}
