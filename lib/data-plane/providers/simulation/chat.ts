// What the simulator answers to a chat-completion request, decided as a model would and as a pure
// function of the request: a tool call, JSON for a response format, a summary of tool results, or
// text. The provider renders the plan as a JSON completion or as stream chunks.
//
// Tools. `none` (or no tools): never a call. A named tool_choice: that tool. `required`: the tools
// the last user message asks for, else the first tool. `auto`: the tools the last user message
// asks for, else text — and never right after tool results (the conversation's last message has
// role "tool"), so agent loops end with an answer that quotes those results. A message asks for a
// tool when it contains the tool's name, or one of the words of its name (split at `_`, `-`,
// digits and camelCase) that has three letters or more and is not a generic verb ("get", "list",
// "search"…): "what's the weather in Paris?" asks for `get_weather`. With `parallel_tool_calls:
// false` only the first such tool is called. Arguments are generated from the tool's parameters
// schema (json-from-schema.ts).
//
// Limits cut what a model would have sent: max_tokens (or max_completion_tokens) cuts text, JSON
// and tool arguments alike, with finish_reason "length" (so cut JSON is not valid, as with a real
// model); stop sequences cut text and JSON content, not tool arguments.
import { jsonFromSchema, UnsatisfiableSchemaError } from "./json-from-schema";
import { invalidRequest, type SimulatedChatRequest, type SimulatedMessage, type SimulatedTool } from "./request";
import { fnv1a, Seeded } from "./seeded";
import { cutAnswer, estimateTokens, tokenize } from "./tokens";

export interface PlannedToolCall {
  id: string;
  name: string;
  /** Pieces of the arguments' JSON text; streamed one a chunk. */
  pieces: string[];
}

export type PlannedChoice =
  | { kind: "text"; pieces: string[]; finishReason: "stop" | "length" }
  | { kind: "tool_calls"; calls: PlannedToolCall[]; finishReason: "tool_calls" | "length" };

export interface ChatPlan {
  choices: PlannedChoice[];
  promptTokens: number;
  completionTokens: number;
}

const VOCABULARY = (
  "the a gateway routes every request to a healthy upstream while instances share state through " +
  "postgres and scale out behind a balancer with leases fencing tokens metrics alerts and a console " +
  "for operators who watch latency throughput errors cache hits and capacity"
).split(" ");

const GENERIC_NAME_WORDS = new Set(
  "get set list fetch find search create update delete remove make run call query lookup look retrieve read write send add check compute calculate tool function the for and with info data".split(
    " ",
  ),
);

const ID_CHARACTERS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"];

export function planChat(request: SimulatedChatRequest, answerWords: number): ChatPlan {
  const prompt = promptText(request.messages);
  const seed = fnv1a(prompt);
  const stop = request.stop == null ? [] : typeof request.stop === "string" ? [request.stop] : request.stop;
  const limit = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const tools = request.tools ?? [];
  const called = toolsToCall(request, tools);
  const choices: PlannedChoice[] = [];
  for (let index = 0, n = request.n ?? 1; index < n; index++) {
    // Choice 0 keeps the prompt's own seed; the others are further samples of the same request.
    const random = new Seeded(index === 0 ? seed : Math.imul(seed ^ index, 0x9e3779b1));
    if (called.length > 0) {
      choices.push(toolCallChoice(called, tools, random, limit));
      continue;
    }
    const { pieces, finishReason } = cutAnswer(answerPieces(request, random, answerWords), stop, limit);
    choices.push({ kind: "text", pieces, finishReason });
  }
  let completionTokens = 0;
  for (const choice of choices) {
    completionTokens +=
      choice.kind === "text" ? choice.pieces.length : choice.calls.reduce((sum, call) => sum + call.pieces.length, 0);
  }
  return { choices, promptTokens: promptTokens(prompt, request), completionTokens };
}

/** The text of every message, joined: what the answer is seeded from. */
function promptText(messages: readonly SimulatedMessage[]): string {
  return messages.map((m) => contentText(m.content)).join("\n");
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((part: { text?: unknown }) => (typeof part?.text === "string" ? part.text : "")).join(" ");
}

/** Tool definitions and a response schema are part of what a model reads, so they count as prompt. */
function promptTokens(prompt: string, request: SimulatedChatRequest): number {
  let tokens = estimateTokens(prompt);
  if (request.tools?.length) tokens += estimateTokens(JSON.stringify(request.tools));
  if (request.response_format?.type === "json_schema")
    tokens += estimateTokens(JSON.stringify(request.response_format.json_schema));
  return tokens;
}

function toolsToCall(request: SimulatedChatRequest, tools: SimulatedTool[]): SimulatedTool[] {
  const choice = request.tool_choice ?? "auto";
  if (tools.length === 0 || choice === "none") return [];
  if (typeof choice === "object") return tools.filter((tool) => tool.function.name === choice.function.name).slice(0, 1);
  const answeredTools = request.messages.at(-1)?.role === "tool";
  const asked = choice === "auto" && answeredTools ? [] : toolsAskedFor(lastUserText(request.messages), tools);
  const wanted = asked.length > 0 ? asked : choice === "required" ? [tools[0]!] : [];
  return request.parallel_tool_calls === false ? wanted.slice(0, 1) : wanted;
}

function lastUserText(messages: readonly SimulatedMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === "user") return contentText(messages[i]!.content);
  return "";
}

function toolsAskedFor(text: string, tools: SimulatedTool[]): SimulatedTool[] {
  const lower = text.toLowerCase();
  const words = new Set(lower.split(/[^\p{L}\p{N}]+/u));
  return tools.filter((tool) => {
    const name = tool.function.name;
    if (name.length >= 3 && lower.includes(name.toLowerCase())) return true;
    return nameWords(name).some((word) => word.length >= 3 && !GENERIC_NAME_WORDS.has(word) && words.has(word));
  });
}

function nameWords(name: string): string[] {
  return name
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
}

function toolCallChoice(
  called: SimulatedTool[],
  tools: SimulatedTool[],
  random: Seeded,
  limit: number | undefined,
): PlannedChoice {
  let budget = limit ?? Infinity;
  const calls: PlannedToolCall[] = [];
  for (const tool of called) {
    if (budget <= 0) break;
    const pieces = tokenize(JSON.stringify(argumentsFor(tool, tools.indexOf(tool), random)));
    const kept = pieces.length > budget ? pieces.slice(0, budget) : pieces;
    budget -= pieces.length;
    calls.push({
      id: `call_${Array.from({ length: 24 }, () => random.pick(ID_CHARACTERS)).join("")}`,
      name: tool.function.name,
      pieces: kept,
    });
  }
  return { kind: "tool_calls", calls, finishReason: budget < 0 || calls.length < called.length ? "length" : "tool_calls" };
}

function argumentsFor(tool: SimulatedTool, index: number, random: Seeded): unknown {
  const parameters = tool.function.parameters;
  // Function arguments are always an object; a missing or empty schema means "no arguments".
  const schema =
    parameters == null || Object.keys(parameters).length === 0
      ? { type: "object" }
      : parameters.type === undefined
        ? { type: "object", ...parameters }
        : parameters;
  try {
    return jsonFromSchema(schema, random);
  } catch (error) {
    if (error instanceof UnsatisfiableSchemaError) {
      throw invalidRequest(
        `tools[${index}].function.parameters`,
        `Invalid schema for function '${tool.function.name}': ${error.message}.`,
        "invalid_function_parameters",
      );
    }
    throw error;
  }
}

/** The answer before stop sequences and limits: JSON for a response format, a summary of tool results, or words. */
function answerPieces(request: SimulatedChatRequest, random: Seeded, answerWords: number): string[] {
  const format = request.response_format;
  if (format?.type === "json_schema" && format.json_schema.schema != null) {
    try {
      return tokenize(JSON.stringify(jsonFromSchema(format.json_schema.schema, random)));
    } catch (error) {
      if (error instanceof UnsatisfiableSchemaError) {
        throw invalidRequest(
          "response_format.json_schema.schema",
          `Invalid schema for response_format '${format.json_schema.name}': ${error.message}.`,
          "invalid_json_schema",
        );
      }
      throw error;
    }
  }
  if (format?.type === "json_object" || format?.type === "json_schema") {
    return tokenize(JSON.stringify({ answer: words(random, answerWords).join(" ") }));
  }
  const results = trailingToolResults(request.messages);
  if (results) return tokenize(results);
  const out = words(random, answerWords);
  for (let i = 1; i < out.length; i++) out[i] = ` ${out[i]}`;
  return out;
}

function words(random: Seeded, count: number): string[] {
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = VOCABULARY[random.next() % VOCABULARY.length]!;
  return out;
}

/** After tool results, the answer reports them: "get_weather returned: {…}". Null when the last message is not a tool result. */
function trailingToolResults(messages: readonly SimulatedMessage[]): string | null {
  if (messages.at(-1)?.role !== "tool") return null;
  const names = new Map<string, string>();
  for (const message of messages) for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name);
  const reports: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]!.role === "tool"; i--) {
    const message = messages[i]!;
    const name = (message.tool_call_id && names.get(message.tool_call_id)) || "the tool";
    reports.unshift(`${name} returned: ${contentText(message.content)}`);
  }
  return reports.join("\n");
}
