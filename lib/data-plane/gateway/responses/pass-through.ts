// The Responses API passed through to upstreams that speak it natively (an OpenAI-compatible
// provider with `responsesApi: "native"`): the client's own body goes up, the `response` object
// or event stream comes back as the upstream gave it, with `model` set to the public name. The
// stream ends at response.completed, .incomplete or .failed; an upstream `error` event ends it too.
import { UpstreamFailure } from "../../providers/types";
import type { NativeForm, StreamEnding, StreamObserver, StreamRelay, TokenUsage, UpstreamBody } from "../presentation";
import { streamErrorEvent } from "./stream";

interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
}

interface ResponsesStreamEvent {
  type?: unknown;
  sequence_number?: unknown;
  message?: unknown;
  response?: { model?: unknown; usage?: ResponsesUsage | null; error?: { code?: unknown } | null };
}

const COMPLETE: StreamEnding = { ok: true };
const ENDINGS = new Set(["response.completed", "response.incomplete", "response.failed"]);
const TOKEN_DELTAS = new Set(["response.output_text.delta", "response.refusal.delta", "response.function_call_arguments.delta"]);
// The type goes into the `event:` line: anything else could end that line and forge events.
const EVENT_TYPE = /^[a-z0-9_.]{1,100}$/;

const chatUsage = (usage: ResponsesUsage | null | undefined): TokenUsage | undefined =>
  usage ? { prompt_tokens: usage.input_tokens, completion_tokens: usage.output_tokens } : undefined;

class ResponsesPassThroughRelay implements StreamRelay {
  ending: StreamEnding | undefined;
  readonly unfinished = "upstream stream ended before response.completed";
  private nextSequence = 0;
  private sawFirstToken = false;

  constructor(
    private readonly model: string,
    private readonly observer: StreamObserver,
  ) {}

  next(data: string): string {
    let event: ResponsesStreamEvent;
    try {
      event = JSON.parse(data) as ResponsesStreamEvent;
    } catch {
      throw new UpstreamFailure("protocol", "upstream sent a stream event that is not JSON");
    }
    const type = event.type;
    if (typeof type !== "string" || !EVENT_TYPE.test(type))
      throw new UpstreamFailure("protocol", "upstream sent a stream event without a valid type");
    if (typeof event.sequence_number === "number") this.nextSequence = event.sequence_number + 1;
    if (!this.sawFirstToken && TOKEN_DELTAS.has(type)) {
      this.sawFirstToken = true;
      this.observer.firstToken();
    }
    let out = data;
    const response = event.response;
    if (response && typeof response === "object") {
      response.model = this.model;
      out = JSON.stringify(event);
    }
    if (ENDINGS.has(type)) {
      const usage = chatUsage(response?.usage);
      if (usage) this.observer.usage(usage);
      this.ending =
        type === "response.failed"
          ? {
              ok: false,
              failure: new UpstreamFailure(
                "server_error",
                `upstream response failed${typeof response?.error?.code === "string" ? ` (${response.error.code})` : ""}`,
              ),
            }
          : COMPLETE;
    } else if (type === "error") {
      this.ending = {
        ok: false,
        failure: new UpstreamFailure(
          "server_error",
          `upstream stream error${typeof event.message === "string" ? `: ${event.message}` : ""}`,
        ),
      };
    }
    return `event: ${type}\ndata: ${out}\n\n`;
  }

  error(message: string): string {
    return streamErrorEvent(this.nextSequence++, message);
  }
}

/** The native form of one Responses request: `body` is the client's parsed JSON, as it sent it. */
export function responsesPassThrough(body: UpstreamBody): NativeForm {
  return {
    callsOf: (client) => client.responses,
    body,
    usageOf: (answer) => chatUsage(answer.usage as ResponsesUsage | null | undefined),
    relay: (model, observer) => new ResponsesPassThroughRelay(model, observer),
  };
}
