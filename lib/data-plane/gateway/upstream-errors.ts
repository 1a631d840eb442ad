// What the client is told when the upstream side fails (never the upstream's credentials).
import { AppError, ClientClosedError, UnavailableError, UpstreamError, UpstreamTimeoutError } from "../../platform/errors";
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
  if (error.isTimeout)
    return new UpstreamTimeoutError(`The upstream provider did not answer in time (${error.reason.replace("timeout_", "")}).`);
  switch (error.reason) {
    case "client_error": {
      const upstream = error.upstreamError ?? {};
      return new AppError(
        error.status ?? 400,
        "invalid_request_error",
        upstream.message ?? `The upstream provider rejected the request (${error.status}).`,
        {
          param: upstream.param ?? null,
          code: upstream.code ?? "upstream_rejected",
        },
      );
    }
    // The gateway's credentials or configuration, not the client's: a 401/403/404 here would
    // send the client hunting for a fault in its own key or model name.
    case "auth_rejected":
      return new UpstreamError(
        "The upstream provider refused the gateway's credentials for this model; an operator has to renew the provider's API key.",
        {
          code: "upstream_auth_failed",
        },
      );
    case "model_not_found":
      return new UpstreamError(
        "The upstream provider does not serve this model's deployment; an operator has to fix the deployment.",
        {
          code: "upstream_model_not_found",
        },
      );
    case "client_gone":
      return new ClientClosedError();
    default:
      return new UpstreamError(`The upstream provider failed: ${error.message}.`);
  }
}
