// One typed error hierarchy. Each error carries its HTTP status and a stable code; the mappers
// (lib/platform/http/errors.ts for the data plane, lib/control-plane/console/errors.ts for the console) turn them into
// responses, and hide anything that is not an AppError.
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "insufficient_quota"
  | "upstream_error"
  | "timeout_error"
  | "server_error"
  | "unavailable_error";

export interface AppErrorOptions {
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(400, "invalid_request_error", message, { code: "invalid_request", ...options });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = "Invalid API key.", options: AppErrorOptions = {}) {
    super(401, "authentication_error", message, { code: "invalid_api_key", ...options });
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(403, "permission_error", message, { code: "forbidden", ...options });
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(404, "not_found_error", message, { code: "not_found", ...options });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(409, "invalid_request_error", message, { code: "conflict", ...options });
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(413, "invalid_request_error", message, { code: "request_too_large", ...options });
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(415, "invalid_request_error", message, { code: "unsupported_media_type", ...options });
  }
}

export class RateLimitError extends AppError {
  constructor(message: string, retryAfterSeconds: number, options: AppErrorOptions = {}) {
    super(429, "rate_limit_error", message, {
      code: "rate_limit_exceeded",
      ...options,
      headers: { "retry-after": String(retryAfterSeconds), ...options.headers },
    });
  }
}

/** A spend budget is used up: OpenAI's 429 insufficient_quota (no Retry-After: it lasts until the budget resets). */
export class InsufficientQuotaError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(429, "insufficient_quota", message, { code: "insufficient_quota", ...options });
  }
}

export class UpstreamError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(502, "upstream_error", message, { code: "upstream_error", ...options });
  }
}

export class UpstreamTimeoutError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(504, "timeout_error", message, { code: "upstream_timeout", ...options });
  }
}

export class UnavailableError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(503, "unavailable_error", message, { code: "unavailable", ...options });
  }
}

/** The client hung up before its answer (nginx's 499): nobody reads it, but logs and metrics do. */
export class ClientClosedError extends AppError {
  constructor(message = "The client closed the request before the answer was ready.", options: AppErrorOptions = {}) {
    super(499, "invalid_request_error", message, { code: "client_closed_request", ...options });
  }
}
