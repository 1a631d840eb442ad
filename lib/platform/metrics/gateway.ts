// Gateway metrics. Label values are bounded by configuration: model names that exist (others are
// "unknown"), provider names, deployment labels (provider/upstream model), status codes.
import client from "prom-client";
import { metric, registry } from "./registry";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  metric(name, () => new client.Counter<L>({ name, help, labelNames, registers: [registry] }));
const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
  metric(name, () => new client.Histogram<L>({ name, help, labelNames, buckets, registers: [registry] }));
const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
  metric(name, () => new client.Gauge<L>({ name, help, labelNames, registers: [registry] }));

/** The data plane's API endpoints, in the order stored per-endpoint counts use (metric_rollups.requests_by_endpoint). */
export const GATEWAY_ENDPOINTS = ["chat", "responses", "messages", "completions", "embeddings"] as const;
export type GatewayEndpoint = (typeof GATEWAY_ENDPOINTS)[number];

export const gatewayRequests = counter(
  "agenticorp_gateway_requests_total",
  "Completion requests by endpoint (chat, responses, messages, completions, embeddings), public model, provider that answered (none when no upstream was reached), HTTP status and whether streamed.",
  ["endpoint", "model", "provider", "status", "stream"] as const,
);
export const gatewayDuration = histogram(
  "agenticorp_gateway_request_duration_seconds",
  "Completion latency seen by the client, by endpoint: whole response for JSON, until the last chunk for streams.",
  ["endpoint", "model", "stream"] as const,
  LATENCY_BUCKETS,
);
export const gatewayOverhead = histogram(
  "agenticorp_gateway_overhead_seconds",
  "The gateway's own time per completion request, excluding time spent waiting for the upstream.",
  [] as const,
  OVERHEAD_BUCKETS,
);
export const upstreamDuration = histogram(
  "agenticorp_upstream_duration_seconds",
  "Upstream call latency per attempt: to the full response for JSON, to the first byte for streams.",
  ["provider"] as const,
  LATENCY_BUCKETS,
);
export const upstreamTimeToFirstToken = histogram(
  "agenticorp_upstream_time_to_first_token_seconds",
  "Streams: time from the request to the first content or tool-call token from the upstream.",
  ["provider"] as const,
  LATENCY_BUCKETS,
);
export const tokens = counter(
  "agenticorp_tokens_total",
  "Tokens by public model and direction (prompt or completion), as reported by the upstream.",
  ["model", "direction"] as const,
);
export const cacheRequests = counter(
  "agenticorp_cache_requests_total",
  "Response cache outcomes for completion requests: hit, miss (cacheable, answered upstream) or bypass (not cacheable).",
  ["result"] as const,
);
export const CACHE_SHARED_WRITE_OUTCOMES = ["written", "failed", "dropped", "too_large", "unrepeated"] as const;
export const cacheSharedWrites = counter(
  "agenticorp_cache_shared_writes_total",
  "Answers offered to the shared cache table, by outcome: written (rows this instance wrote), failed (in a batch the database refused), dropped (write queue full), too_large (over CACHE_SHARED_MAX_ENTRY_BYTES, kept local), unrepeated (seen fewer than CACHE_SHARED_MIN_SIGHTINGS times so far, kept local).",
  ["outcome"] as const,
);
export const upstreamRetries = counter(
  "agenticorp_upstream_retries_total",
  "Upstream attempts retried after a retryable failure, by provider and reason.",
  ["provider", "reason"] as const,
);
export const upstreamFallbacks = counter(
  "agenticorp_upstream_fallbacks_total",
  "Retries that moved to a different deployment, by public model.",
  ["model"] as const,
);
export const circuitState = gauge(
  "agenticorp_circuit_state",
  "Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open.",
  ["deployment"] as const,
);
export const rateLimited = counter(
  "agenticorp_rate_limited_total",
  "Requests refused with 429 by a per-key limit (requests or tokens per minute).",
  [] as const,
);
export const streamsActive = gauge("agenticorp_streams_active", "Streaming responses being sent now.", [] as const);
export const upstreamAttemptFailures = counter(
  "agenticorp_upstream_attempt_failures_total",
  "Upstream attempts that ended without an answer, by provider and reason. auth_rejected: the upstream refused the gateway's credentials (401/403); model_not_found: it does not serve the deployment's model (404); client_gone and client_error are not the deployment's fault.",
  ["provider", "reason"] as const,
);
export const upstreamLastFailure = gauge(
  "agenticorp_upstream_last_failure_timestamp_seconds",
  "Unix time of each deployment's latest failure that counted against it, by reason.",
  ["deployment", "reason"] as const,
);
export const spend = counter(
  "agenticorp_spend_usd_total",
  "Spend in USD by public model: each answer's tokens at the model's price (lib/data-plane/usage/prices.ts). No key label (see agenticorp_key_spend_usd_total).",
  ["model"] as const,
);
export const cacheSaved = counter(
  "agenticorp_cache_saved_usd_total",
  "What answers served from the response cache would have cost upstream, in USD, by public model.",
  ["model"] as const,
);
/** Only with METRICS_KEY_LABEL=true: one series per key. */
export const keySpend = counter("agenticorp_key_spend_usd_total", "Spend in USD by API key id (METRICS_KEY_LABEL=true only).", [
  "key",
] as const);
export const keyTokens = counter(
  "agenticorp_key_tokens_total",
  "Tokens by API key id and direction (prompt or completion) (METRICS_KEY_LABEL=true only).",
  ["key", "direction"] as const,
);
