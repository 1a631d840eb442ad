// What the client is told when the upstream side fails (never the upstream's credentials).
import { AppError, UnavailableError, UpstreamError, UpstreamTimeoutError } from "../errors";
import { UpstreamFailure } from "../providers/types";
import { NoDeploymentAvailable } from "./router";

export function upstreamErrorToAppError(error: unknown): unknown {
  if (error instanceof NoDeploymentAvailable) {
    return new UnavailableError("Every upstream for this model is failing; try again shortly.", {
      code: "upstream_unavailable",
      headers: { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
    });
  }
  if (!(error instanceof UpstreamFailure)) return error;
  if (error.isTimeout) return new UpstreamTimeoutError(`The upstream provider did not answer in time (${error.reason.replace("timeout_", "")}).`);
  if (error.reason === "client_error" && error.status) {
    const upstream = error.upstreamError ?? {};
    return new AppError(error.status, "invalid_request_error", upstream.message ?? `The upstream provider rejected the request (${error.status}).`, {
      param: upstream.param ?? null,
      code: upstream.code ?? "upstream_rejected",
    });
  }
  return new UpstreamError(`The upstream provider failed: ${error.message}.`);
}
