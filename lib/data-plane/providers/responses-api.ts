// How an OpenAI-compatible upstream is asked POST /v1/responses: translated to chat completions
// (the default: most upstreams speak only chat), or passed through natively. Free of imports so
// the console's form can use it too.
export const RESPONSES_API_MODES = ["translate", "native"] as const;
export type ResponsesApiMode = (typeof RESPONSES_API_MODES)[number];

export const RESPONSES_API_LABEL: Record<ResponsesApiMode, string> = {
  translate: "translate to chat completions",
  native: "native (the upstream serves /responses)",
};

/** The mode in a provider's public settings; "translate" when unset, as the settings schema defaults it. */
export function responsesApiOf(settings: unknown): ResponsesApiMode {
  const mode = (settings as { responsesApi?: unknown } | null)?.responsesApi;
  return mode === "native" ? "native" : "translate";
}
