// Registers the OpenAI-compatible API under /v1 (stock SDKs with a base URL) and /api/v1.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { NotFoundError, UnauthorizedError } from "../../platform/errors";
import { countTokensHandler } from "./anthropic/count-tokens";
import { toAnthropicError } from "./anthropic/errors";
import { messagesEndpoint } from "./anthropic/endpoint";
import { authenticate, authenticateBatchKey } from "./auth";
import { batchKeyId } from "../batch/internal-auth";
import { batchRoutes } from "../batch/routes";
import { chatCompletionsHandler, completionHandler } from "./chat-completions";
import { embeddingsEndpoint } from "./embeddings";
import type { GatewayDeps } from "./deps";
import { legacyCompletionsHandler } from "./legacy-completions/batch";
import { legacyCompletionsEndpoint } from "./legacy-completions/endpoint";
import { getModelHandler, listModelsHandler } from "./models";
import { getResponseHandler, responsesEndpoint } from "./responses/endpoint";
import { registerRequestLogHooks } from "../request-log/hooks";

export const API_PREFIXES = ["/v1", "/api/v1"] as const;

export async function gatewayRoutes(app: FastifyInstance, deps: GatewayDeps) {
  // JSON only: anything else is a 415, not a string handed to the handler.
  app.removeContentTypeParser("text/plain");
  app.decorateRequest("apiKey", null);
  app.decorateRequest("batchRequest", false);
  if (deps.requestLog) registerRequestLogHooks(app, deps.requestLog);
  else app.decorateRequest("requestLog", null);
  app.addHook("onRequest", (request, _reply, done) => {
    try {
      const batchKey = batchKeyId(request.headers);
      if (batchKey === false) throw new UnauthorizedError("Invalid batch credential.");
      if (batchKey === undefined) {
        request.apiKey = authenticate(request.headers, deps.fleet.current);
      } else {
        request.apiKey = authenticateBatchKey(batchKey, deps.fleet.current);
        request.batchRequest = true;
      }
      deps.keyUsage.touch(request.apiKey.id);
    } catch (error) {
      return done(error as Error);
    }
    done();
  });
  // Live completions' latency is what batch work yields to (lib/data-plane/batch/load-signals.ts). A hook
  // on the completion routes only, so no other request pays for it.
  const onResponse = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (!request.batchRequest) deps.load.recordLiveLatency(reply.elapsedTime);
    done();
  };

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
  await batchRoutes(app, API_PREFIXES, deps.batch);
  for (const prefix of API_PREFIXES) {
    app.post(`${prefix}/chat/completions`, { config: { accessLog: true, endpoint: "chat" }, onResponse }, chat);
    app.post(`${prefix}/responses`, { config: { accessLog: true, endpoint: "responses" }, onResponse }, responses);
    app.get(`${prefix}/responses/:id`, { config: { accessLog: true, endpoint: "responses" } }, getResponseHandler);
    app.post(`${prefix}/completions`, { config: { accessLog: true, endpoint: "completions" }, onResponse }, legacyCompletions);
    app.post(`${prefix}/embeddings`, { config: { accessLog: true, endpoint: "embeddings" }, onResponse }, embeddings);
    app.get(`${prefix}/models`, { config: { accessLog: true } }, listModels);
    app.get(`${prefix}/models/*`, { config: { accessLog: true } }, getModel);
    app.post(`${prefix}/messages`, { ...anthropicRoute, onResponse }, messages);
    app.post(`${prefix}/messages/count_tokens`, anthropicRoute, countTokens);
    app.all(`${prefix}/*`, async (request) => {
      throw new NotFoundError(`Unknown endpoint: ${request.method} ${request.url.split("?")[0]}.`, { code: "unknown_url" });
    });
  }
}
