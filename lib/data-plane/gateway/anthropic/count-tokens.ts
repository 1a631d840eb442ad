// POST /v1/messages/count_tokens — an estimate of a Messages request's input tokens, without
// asking an upstream. One estimator for everything the model reads: the text of the system
// prompt, of every text block, tool call (name and JSON input) and tool result, and of every tool
// (name, description, JSON schema), at about four characters a token (estimateTokens); an image
// counts a flat IMAGE_TOKENS, Anthropic's figure for an image at the largest size it keeps.
import type { FastifyReply, FastifyRequest } from "fastify";
import { ForbiddenError, NotFoundError } from "../../../platform/errors";
import { estimateTokens } from "../../providers/simulation/tokens";
import type { GatewayDeps } from "../deps";
import { parseRequestBody } from "../schema";
import { countTokensRequest, type ContentBlock, type CountTokensRequest } from "./schema";
import { systemText } from "./to-chat";

export const IMAGE_TOKENS = 1_600;

function blockText(block: ContentBlock): string {
  switch (block.type) {
    case "text":
      return block.text;
    case "tool_use":
      return `${block.name} ${JSON.stringify(block.input)}`;
    case "tool_result":
      return typeof block.content === "string" ? block.content : (block.content ?? []).map((part) => part.text).join("\n");
    default:
      return "";
  }
}

export function estimateInputTokens(request: CountTokensRequest): number {
  const texts = [systemText(request.system)];
  let images = 0;
  for (const message of request.messages) {
    if (typeof message.content === "string") {
      texts.push(message.content);
      continue;
    }
    for (const block of message.content as ContentBlock[]) {
      if (block.type === "image") images += 1;
      else texts.push(blockText(block));
    }
  }
  for (const tool of request.tools ?? [])
    texts.push(`${tool.name} ${tool.description ?? ""} ${JSON.stringify(tool.input_schema)}`);
  return estimateTokens(texts.join("\n")) + images * IMAGE_TOKENS;
}

export function countTokensHandler(deps: GatewayDeps) {
  return async function countTokens(request: FastifyRequest, reply: FastifyReply) {
    const body = parseRequestBody(countTokensRequest, request.body);
    // The same answers as a completion would give about the model, so a count never says yes where a call says no.
    if (!deps.fleet.current.models.has(body.model)) {
      throw new NotFoundError(`The model '${body.model}' does not exist or you do not have access to it.`, {
        param: "model",
        code: "model_not_found",
      });
    }
    const key = request.apiKey!;
    if (key.allowedModels.size > 0 && !key.allowedModels.has(body.model)) {
      throw new ForbiddenError(`This API key may not use the model '${body.model}'.`, {
        param: "model",
        code: "model_not_allowed",
      });
    }
    return reply.send({ input_tokens: estimateInputTokens(body) });
  };
}
