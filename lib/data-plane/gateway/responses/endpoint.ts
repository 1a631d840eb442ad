// POST /v1/responses — OpenAI's Responses API, served by the chat pipeline: per deployment, the
// request passes through to an upstream that speaks Responses natively (./pass-through.ts), or is
// translated to a chat completion and the answer (JSON or stream) back into Responses form.
// GET /v1/responses/:id — nothing is stored, so every id is unknown (a clear 404).
import type { FastifyRequest } from "fastify";
import { NotFoundError } from "../../../platform/errors";
import type { CachedAnswer, Endpoint, Presentation, UpstreamBody } from "../presentation";
import { parseRequestBody } from "../schema";
import { responsesPassThrough } from "./pass-through";
import { responsesRequest } from "./schema";
import { ResponsesStreamEncoder } from "./stream";
import { toChatRequest } from "./translate-request";
import { completionToResponse, newItemId, type ResponseContext } from "./translate-response";

function responsesPresentation(context: ResponseContext): Presentation {
  return {
    json(payload) {
      const { form, answer } = JSON.parse(payload) as CachedAnswer;
      return JSON.stringify(form === "native" ? answer : completionToResponse(context, answer));
    },
    stream: () => new ResponsesStreamEncoder(context),
  };
}

export const responsesEndpoint: Endpoint = {
  name: "responses",
  parse(body) {
    const request = parseRequestBody(responsesRequest, body);
    return {
      upstream: toChatRequest(request),
      presentation: responsesPresentation({ id: newItemId("resp"), request }),
      // The body as the client sent it (the schema accepted it): what a native upstream is asked.
      native: responsesPassThrough(body as UpstreamBody),
    };
  },
};

export async function getResponseHandler(request: FastifyRequest<{ Params: { id: string } }>): Promise<never> {
  throw new NotFoundError(
    `No response found with id '${request.params.id}': this gateway does not store responses (store is ignored).`,
    {
      param: "response_id",
      code: "response_not_found",
    },
  );
}
