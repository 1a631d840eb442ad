// Anthropic's error shape, for the routes that speak the Messages API: {"type":"error","error":
// {"type","message"},"request_id"}. The type follows the status, as Anthropic's SDKs expect
// (they choose the error class by status and read the type for detail).
import type { AppError } from "../../../platform/errors";

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "timeout_error"
  | "api_error"
  | "overloaded_error";

export interface AnthropicErrorBody {
  type: "error";
  error: { type: AnthropicErrorType; message: string };
  request_id: string | null;
}

function anthropicErrorType(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 504:
      return "timeout_error";
    // Every upstream for the model is failing (our 503): Anthropic's word for "try again soon".
    case 503:
    case 529:
      return "overloaded_error";
  }
  return status >= 500 ? "api_error" : "invalid_request_error";
}

export function toAnthropicError(error: AppError, requestId: string | null): AnthropicErrorBody {
  return { type: "error", error: { type: anthropicErrorType(error.status), message: error.message }, request_id: requestId };
}
