// Registers the OpenAI-compatible API under /v1 (stock SDKs with a base URL) and /api/v1.
import type { FastifyInstance } from "fastify";
import { NotFoundError } from "../../platform/errors";
import { countTokensHandler } from "./anthropic/count-tokens";
import { toAnthropicError } from "./anthropic/errors";
import { messagesEndpoint } from "./anthropic/endpoint";
import { authenticate } from "./auth";
import { chatCompletionsHandler, completionHandler } from "./chat-completions";
import { embeddingsEndpoint } from "./embeddings";
import type { GatewayDeps } from "./deps";
import { legacyCompletionsHandler } from "./legacy-completions/batch";
import { legacyCompletionsEndpoint } from "./legacy-completions/endpoint";
import { getModelHandler, listModelsHandler } from "./models";
import { getResponseHandler, responsesEndpoint } from "./responses/endpoint";

export const API_PREFIXES = ["/v1", "/api/v1"] as const;

export async function gatewayRoutes(app: FastifyInstance, deps: GatewayDeps) {
  // JSON only: anything else is a 415, not a string handed to the handler.
  app.removeContentTypeParser("text/plain");
  app.decorateRequest("apiKey", null);
  app.addHook("onRequest", (request, _reply, done) => {
    try {
      request.apiKey = authenticate(request.headers, deps.fleet.current);
      deps.keyUsage.touch(request.apiKey.id);
    } catch (error) {
      return done(error as Error);
    }
    done();
  });

  const chat = chatCompletionsHandler(deps);
  const embeddings = completionHandler(deps, embeddingsEndpoint);
  const responses = completionHandler(deps, responsesEndpoint);
  const legacyCompletions = legacyCompletionsHandler(completionHandler(deps, legacyCompletionsEndpoint));
  const listModels = listModelsHandler(deps);
  const getModel = getModelHandler(deps);
  const messages = completionHandler(deps, messagesEndpoint);
  const countTokens = countTokensHandler(deps);
  // Anthropic's clients read errors in Anthropic's shape, key failures in the onRequest hook included.
  const anthropicRoute = { config: { accessLog: true, endpoint: "messages" as const, errorBody: toAnthropicError } };
  for (const prefix of API_PREFIXES) {
    app.post(`${prefix}/chat/completions`, { config: { accessLog: true, endpoint: "chat" } }, chat);
    app.post(`${prefix}/responses`, { config: { accessLog: true, endpoint: "responses" } }, responses);
    app.get(`${prefix}/responses/:id`, { config: { accessLog: true, endpoint: "responses" } }, getResponseHandler);
    app.post(`${prefix}/completions`, { config: { accessLog: true, endpoint: "completions" } }, legacyCompletions);
    app.post(`${prefix}/embeddings`, { config: { accessLog: true, endpoint: "embeddings" } }, embeddings);
    app.get(`${prefix}/models`, { config: { accessLog: true } }, listModels);
    app.get(`${prefix}/models/*`, { config: { accessLog: true } }, getModel);
    app.post(`${prefix}/messages`, anthropicRoute, messages);
    app.post(`${prefix}/messages/count_tokens`, anthropicRoute, countTokens);
    app.all(`${prefix}/*`, async (request) => {
      throw new NotFoundError(`Unknown endpoint: ${request.method} ${request.url.split("?")[0]}.`, { code: "unknown_url" });
    });
  }
}
