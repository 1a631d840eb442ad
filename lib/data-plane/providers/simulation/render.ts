// A chat plan in OpenAI's wire shapes (types from the official SDK, so a drift fails to compile):
// one chat.completion, or the chunk deltas of a stream.
import type { ChatCompletion, ChatCompletionChunk } from "openai/resources/chat/completions";
import type { CompletionUsage } from "openai/resources/completions";
import type { ChatPlan, PlannedChoice } from "./chat";

const SIMULATOR_FINGERPRINT = "fp_agenticorp_simulator";

export interface Envelope {
  id: string;
  created: number;
  model: string;
}

export function usageOf(plan: ChatPlan): CompletionUsage {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
  };
}

export function completionOf(plan: ChatPlan, envelope: Envelope): ChatCompletion {
  return {
    id: envelope.id,
    object: "chat.completion",
    created: envelope.created,
    model: envelope.model,
    system_fingerprint: SIMULATOR_FINGERPRINT,
    choices: plan.choices.map((choice, index) => ({
      index,
      message: messageOf(choice),
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: usageOf(plan),
  };
}

function messageOf(choice: PlannedChoice): ChatCompletion.Choice["message"] {
  if (choice.kind === "text") return { role: "assistant", content: choice.pieces.join(""), refusal: null };
  return {
    role: "assistant",
    content: null,
    refusal: null,
    tool_calls: choice.calls.map((call) => ({
      id: call.id,
      type: "function",
      function: { name: call.name, arguments: call.pieces.join("") },
    })),
  };
}

type Delta = ChatCompletionChunk.Choice.Delta;

/** The first delta of a choice: the role, and for a tool call its id, type and name with empty arguments. */
export function openingDelta(choice: PlannedChoice): Delta {
  if (choice.kind === "text") return { role: "assistant", content: "" };
  const first = choice.calls[0]!;
  return {
    role: "assistant",
    content: null,
    tool_calls: [{ index: 0, id: first.id, type: "function", function: { name: first.name, arguments: "" } }],
  };
}

/** The deltas after the opening one, one token each: content pieces, or argument fragments (and each further call's opening). */
export function tokenDeltas(choice: PlannedChoice): Delta[] {
  if (choice.kind === "text") return choice.pieces.map((content) => ({ content }));
  const deltas: Delta[] = [];
  choice.calls.forEach((call, index) => {
    if (index > 0)
      deltas.push({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] });
    for (const fragment of call.pieces) deltas.push({ tool_calls: [{ index, function: { arguments: fragment } }] });
  });
  return deltas;
}

/** Serialises chunks of one stream; with include_usage every chunk carries `usage`, null until the last. */
export function chunkWriter(envelope: Envelope, includeUsage: boolean) {
  const write = (choices: ChatCompletionChunk.Choice[], usage?: CompletionUsage): string => {
    const chunk: ChatCompletionChunk = {
      id: envelope.id,
      object: "chat.completion.chunk",
      created: envelope.created,
      model: envelope.model,
      system_fingerprint: SIMULATOR_FINGERPRINT,
      choices,
      ...(includeUsage ? { usage: usage ?? null } : {}),
    };
    return JSON.stringify(chunk);
  };
  return {
    delta: (index: number, delta: Delta, finishReason: ChatCompletionChunk.Choice["finish_reason"] = null) =>
      write([{ index, delta, logprobs: null, finish_reason: finishReason }]),
    usage: (usage: CompletionUsage) => write([], usage),
  };
}
