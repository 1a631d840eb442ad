// A Messages API request in chat-completion form, so the chat pipeline can serve it. Pure.
// Tool results become `tool` messages (placed first, where the chat API expects them, right after
// the assistant's tool calls); images become image_url parts; Claude's replayed thinking blocks
// are dropped; top_k has no chat equivalent and is dropped.
import type { ChatCompletionRequest } from "../schema";
import type { ContentBlock, MessageParam, MessagesRequest, Tool, ToolChoice } from "./schema";

type ChatMessage = ChatCompletionRequest["messages"][number];
type ChatTool = NonNullable<ChatCompletionRequest["tools"]>[number];
type ChatPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

export function messagesToChat(request: MessagesRequest): ChatCompletionRequest {
  const chat: ChatCompletionRequest = {
    model: request.model,
    messages: [...systemMessages(request.system), ...request.messages.flatMap(toChatMessages)],
    max_tokens: request.max_tokens,
  };
  if (request.stop_sequences?.length) chat.stop = request.stop_sequences;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  if (request.metadata?.user_id) chat.user = request.metadata.user_id;
  if (request.tools?.length) chat.tools = request.tools.map(toChatTool);
  if (request.tool_choice) Object.assign(chat, toChatToolChoice(request.tool_choice));
  if (request.stream) {
    chat.stream = true;
    // Anthropic's stream ends with the usage; a chat stream carries it only when asked.
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

export function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  return typeof system === "string" ? system : system.map((block) => block.text).join("\n\n");
}

function systemMessages(system: MessagesRequest["system"]): ChatMessage[] {
  const text = systemText(system);
  return text ? [{ role: "system", content: text }] : [];
}

function toChatMessages(message: MessageParam): ChatMessage[] {
  if (message.role === "system") return [{ role: "system", content: systemText(message.content) }];
  const blocks: ContentBlock[] =
    typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
  return message.role === "assistant" ? [assistantMessage(blocks)] : userMessages(blocks);
}

function assistantMessage(blocks: ContentBlock[]): ChatMessage {
  const text = blocks.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
  const toolCalls = blocks.flatMap((block) =>
    block.type === "tool_use"
      ? [{ id: block.id, type: "function" as const, function: { name: block.name, arguments: JSON.stringify(block.input) } }]
      : [],
  );
  return {
    role: "assistant",
    content: text || (toolCalls.length ? null : ""),
    ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
  };
}

function userMessages(blocks: ContentBlock[]): ChatMessage[] {
  const toolMessages: ChatMessage[] = [];
  const parts: ChatPart[] = [];
  for (const block of blocks) {
    if (block.type === "tool_result")
      toolMessages.push({ role: "tool", tool_call_id: block.tool_use_id, content: toolResultText(block) });
    else if (block.type === "text") parts.push({ type: "text", text: block.text });
    else if (block.type === "image") {
      const { source } = block;
      parts.push({
        type: "image_url",
        image_url: { url: source.type === "base64" ? `data:${source.media_type};base64,${source.data}` : source.url },
      });
    }
  }
  if (parts.length === 0) return toolMessages;
  const content = parts.every((part) => part.type === "text") ? parts.map((part) => part.text).join("\n") : parts;
  return [...toolMessages, { role: "user", content }];
}

function toolResultText(block: Extract<ContentBlock, { type: "tool_result" }>): string {
  const text = typeof block.content === "string" ? block.content : (block.content ?? []).map((part) => part.text).join("\n");
  // The chat API has no error flag on a tool result: the model learns it from the text.
  return block.is_error ? `Error: ${text}` : text;
}

function toChatTool(tool: Tool): ChatTool {
  return {
    type: "function",
    function: {
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      parameters: tool.input_schema,
    },
  };
}

function toChatToolChoice(choice: ToolChoice): Pick<ChatCompletionRequest, "tool_choice"> & { parallel_tool_calls?: false } {
  const serial =
    "disable_parallel_tool_use" in choice && choice.disable_parallel_tool_use === true
      ? { parallel_tool_calls: false as const }
      : {};
  switch (choice.type) {
    case "auto":
      return { tool_choice: "auto", ...serial };
    case "any":
      return { tool_choice: "required", ...serial };
    case "tool":
      return { tool_choice: { type: "function", function: { name: choice.name } }, ...serial };
    case "none":
      return { tool_choice: "none" };
  }
}
