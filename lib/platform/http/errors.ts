// The data plane's one error mapper: every error becomes OpenAI's
// {"error":{"message","type","param","code"}} with the right status, or, on a route that chooses
// another shape (config.errorBody), that API's own; internals stay hidden.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AppError, BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "../errors";

declare module "fastify" {
  interface FastifyContextConfig {
    /** How this route tells errors: OpenAI's shape unless it speaks another API (Anthropic's Messages). */
    errorBody?: (error: AppError, requestId: string) => object;
  }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function toOpenAIError(error: AppError): OpenAIErrorBody {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

/** Turns what Fastify itself throws (body parsing, limits, content type) into AppErrors. */
function fromFastifyError(error: FastifyError): AppError | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new PayloadTooLargeError("Request body is too large.");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
        ? new UnsupportedMediaTypeError("Content-Type must be application/json.")
        : new BadRequestError("Content-Length does not match the body.");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new BadRequestError("Request body is empty; expected a JSON object.", { code: "invalid_json" });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new BadRequestError("Request body is not valid JSON.", { code: "invalid_json" });
  }
  if (error instanceof SyntaxError || (error as { statusCode?: number }).statusCode === 400) {
    return new BadRequestError("Request body is not valid JSON.", { code: "invalid_json" });
  }
  return undefined;
}

const INTERNAL_ERROR = new AppError(500, "server_error", "The server had an error while processing your request.", {
  code: "internal_error",
});

function errorBody(request: FastifyRequest, error: AppError): object {
  const { errorBody: routeErrorBody } = request.routeOptions.config;
  return routeErrorBody ? routeErrorBody(error, request.id) : toOpenAIError(error);
}

export function dataPlaneErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const appError = error instanceof AppError ? error : fromFastifyError(error);
  if (appError) {
    if (appError.status >= 500) request.log.warn({ request_id: request.id, err: appError }, appError.message);
    return reply.code(appError.status).headers(appError.headers).send(errorBody(request, appError));
  }
  request.log.error({ request_id: request.id, err: error }, "unhandled error");
  return reply.code(500).send(errorBody(request, INTERNAL_ERROR));
}
