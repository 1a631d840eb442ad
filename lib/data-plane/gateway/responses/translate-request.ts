// A Responses API request in chat-completion form: instructions become the system message, input
// items become messages (function calls joining the assistant turn they belong to, their outputs
// becoming tool messages), text.format becomes response_format.
import { BadRequestError } from "../../../platform/errors";
import type { ChatCompletionRequest } from "../schema";
import { withoutNulls } from "../without-nulls";
import type { ContentPart, InputItem, ResponsesRequest } from "./schema";

type ChatMessage = ChatCompletionRequest["messages"][number];
type ChatPart = { type: string; [field: string]: unknown };

/** Refuses what needs state this gateway does not keep (it stores no responses). */
function refuseStatefulFeatures(request: ResponsesRequest): void {
  const unsupported = (param: string, message: string) => new BadRequestError(message, { param, code: "unsupported_parameter" });
  if (request.previous_response_id != null) {
    throw unsupported(
      "previous_response_id",
      "previous_response_id is not supported: this gateway does not store responses. Send the whole conversation in 'input'.",
    );
  }
  if (request.conversation != null) {
    throw unsupported(
      "conversation",
      "conversation is not supported: this gateway does not store conversations. Send the whole conversation in 'input'.",
    );
  }
  if (request.prompt != null) throw unsupported("prompt", "Stored prompt templates are not supported by this gateway.");
  if (request.background === true)
    throw unsupported("background", "Background responses are not supported: this gateway does not store responses.");
}

function chatPart(part: ContentPart): ChatPart {
  switch (part.type) {
    case "input_text":
    case "output_text":
      return { type: "text", text: part.text };
    case "refusal":
      return { type: "text", text: part.refusal };
    case "input_image":
      return { type: "image_url", image_url: withoutNulls({ url: part.image_url, detail: part.detail }) };
    case "input_file":
      return { type: "file", file: withoutNulls({ file_data: part.file_data, file_id: part.file_id, filename: part.filename }) };
  }
}

/** One text part is sent as a plain string, which every chat upstream understands. */
function chatContent(parts: ContentPart[]): string | ChatPart[] {
  const converted = parts.map(chatPart);
  const only = converted.length === 1 ? converted[0]! : undefined;
  return only?.type === "text" ? (only.text as string) : converted;
}

function chatMessages(instructions: string | null | undefined, items: InputItem[]): ChatMessage[] {
  const messages: ChatMessage[] = instructions ? [{ role: "system", content: instructions }] : [];
  for (const item of items) {
    switch (item.type) {
      case "message":
        messages.push({ role: item.role, content: chatContent(item.content) });
        break;
      case "function_call": {
        const toolCall = {
          id: item.call_id,
          type: "function" as const,
          function: { name: item.name, arguments: item.arguments },
        };
        // Parallel calls (and any text said before them) are one assistant turn in chat.
        const last = messages.at(-1);
        if (last?.role === "assistant") {
          const turn = last;
          turn.tool_calls = [...(turn.tool_calls ?? []), toolCall];
        } else {
          messages.push({ role: "assistant", content: null, tool_calls: [toolCall] });
        }
        break;
      }
      case "function_call_output":
        messages.push({ role: "tool", tool_call_id: item.call_id, content: chatContent(item.output) });
        break;
    }
  }
  return messages;
}

function responseFormat(request: ResponsesRequest): ChatCompletionRequest["response_format"] {
  const format = request.text?.format;
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "json_object" };
  return {
    type: "json_schema",
    json_schema: withoutNulls({
      name: format.name,
      schema: format.schema,
      description: format.description,
      strict: format.strict,
    }),
  };
}

function toolChoice(request: ResponsesRequest): ChatCompletionRequest["tool_choice"] {
  const choice = request.tool_choice;
  if (choice == null) return undefined;
  return typeof choice === "string" ? choice : { type: "function", function: { name: choice.name } };
}

/** The chat-completion request that answers this Responses request. */
export function toChatRequest(request: ResponsesRequest): ChatCompletionRequest {
  refuseStatefulFeatures(request);
  const tools = request.tools?.map((tool) => ({
    type: "function" as const,
    function: withoutNulls({ name: tool.name, description: tool.description, parameters: tool.parameters, strict: tool.strict }),
  }));
  return withoutNulls({
    model: request.model,
    messages: chatMessages(request.instructions, request.input),
    temperature: request.temperature,
    top_p: request.top_p,
    max_completion_tokens: request.max_output_tokens,
    tools: tools && tools.length > 0 ? tools : undefined,
    tool_choice: toolChoice(request),
    parallel_tool_calls: request.parallel_tool_calls,
    response_format: responseFormat(request),
    reasoning_effort: request.reasoning?.effort,
    user: request.user,
    // Usage arrives only when asked for; response.completed must carry it.
    ...(request.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}
