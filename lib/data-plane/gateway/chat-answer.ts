// What the translating endpoints read from an upstream's chat answer: a completion (JSON) or a
// chunk (stream), in OpenAI's chat-completion shape. Everything is optional: upstreams differ, and
// a missing field must not crash a translation.

export interface ChatUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface ChatToolCall {
  /** Set on a stream's chunks: which of the message's tool calls a delta continues. */
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** A message (JSON) or a delta (stream). */
export interface ChatMessagePart {
  content?: string | null;
  refusal?: string | null;
  tool_calls?: ChatToolCall[] | null;
}

export interface ChatChoice {
  index?: number;
  message?: ChatMessagePart;
  delta?: ChatMessagePart;
  finish_reason?: string | null;
}

export interface ChatAnswer {
  id?: string;
  created?: number;
  model?: string;
  system_fingerprint?: string | null;
  choices?: ChatChoice[];
  usage?: ChatUsage | null;
}
