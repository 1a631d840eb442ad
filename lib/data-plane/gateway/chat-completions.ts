// POST /v1/chat/completions and /api/v1/chat/completions — OpenAI-compatible, JSON or SSE.
// Key check, model check, fleet rate limit, cache, then the router's attempts upstream. The same
// pipeline serves the endpoints that translate to chat (lib/data-plane/gateway/presentation.ts).
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { ClientClosedError, ForbiddenError, NotFoundError, RateLimitError } from "../../platform/errors";
import type { ApiKeyEntry, DeploymentEntry } from "../fleet-config/snapshot";
import {
  cacheRequests,
  gatewayDuration,
  gatewayOverhead,
  gatewayRequests,
  rateLimited,
  streamsActive,
  upstreamDuration,
  upstreamTimeToFirstToken,
} from "../../platform/metrics/gateway";
import { UpstreamFailure, type ProviderClient, type UpstreamCall } from "../providers/types";
import { cacheDecision } from "../cache/response-cache";
import { hasQuotas } from "../usage/quotas";
import type { GatewayDeps } from "./deps";
import { ChatStreamRelay } from "./chat-stream-relay";
import {
  asGiven,
  type CachedAnswer,
  type Endpoint,
  type EndpointName,
  type EndpointRequest,
  type StreamEnding,
  type StreamObserver,
  type StreamRelay,
  type TokenUsage,
  type UpstreamBody,
} from "./presentation";
import { parseChatCompletionRequest } from "./schema";
import { batchBudgetId } from "../batch/internal-auth";
import { ClientLink, clientGone, type UpstreamAttempt, UpstreamRequest } from "./upstream-attempt";
import { upstreamErrorToAppError } from "./upstream-errors";
import { recordFor } from "../request-log/hooks";
import type { RequestRecord } from "../request-log/record";

declare module "fastify" {
  interface FastifyRequest {
    apiKey: ApiKeyEntry | null;
    /** Sent by this instance's batch worker on a key's behalf (lib/data-plane/batch/internal-auth.ts). */
    batchRequest: boolean;
  }
}

/**
 * Tracks time spent waiting on upstreams, so the gateway's own overhead can be reported, and
 * notes each attempt and the tokens in the request log's record (when the log is on).
 */
class Timing {
  private upstreamMs = 0;
  constructor(
    private readonly reply: FastifyReply,
    readonly record: RequestRecord | null,
  ) {}
  /** Counts one upstream attempt that began at `started` (performance.now()); `failure` unless it answered. */
  attemptEnded(deployment: DeploymentEntry, started: number, attempt: UpstreamAttempt, failed: boolean, failure?: unknown): void {
    const elapsed = performance.now() - started;
    const provider = deployment.provider.name;
    this.upstreamMs += elapsed;
    if (!attempt.abandoned) upstreamDuration.observe({ provider }, elapsed / 1000);
    const record = this.record;
    if (!record) return;
    record.attempt(deployment.label, provider, elapsed, failed ? (failure ?? new Error("failed")) : undefined);
    if (!failed) record.price = deployment.price ?? null;
  }
  overheadMs(): number {
    return Math.max(0, this.reply.elapsedTime - this.upstreamMs);
  }
}

/** A request that no upstream answered (refused here, or every attempt failed). */
function countUnanswered(
  deps: GatewayDeps,
  key: ApiKeyEntry,
  endpoint: EndpointName,
  model: string,
  error: unknown,
  stream: string,
  accounted = false,
): void {
  const status = (error as { status?: number }).status ?? 500;
  gatewayRequests.inc({ endpoint, model, provider: "none", status: String(status), stream });
  // An answer this request was already charged for (its client left after it came) is one request, not two.
  if (!accounted) deps.usage.unanswered(key, model, endpoint, status);
}

/** The token counts of an answer as the cache keeps it (see completeUpstream), for what a hit saved. */
function usageOfPayload(payload: string, native: EndpointRequest["native"]): TokenUsage | undefined {
  try {
    const parsed = JSON.parse(payload) as Record<string, unknown>;
    if (!native) return parsed.usage as TokenUsage | undefined;
    const { form, answer } = parsed as unknown as CachedAnswer;
    return form === "native" ? native.usageOf(answer) : (answer.usage as TokenUsage | undefined);
  } catch {
    return undefined;
  }
}

const chatEndpoint: Endpoint = {
  name: "chat",
  parse: (body) => ({ upstream: parseChatCompletionRequest(body), presentation: asGiven }),
};

export function chatCompletionsHandler(deps: GatewayDeps) {
  return completionHandler(deps, chatEndpoint);
}

/** The handler of an endpoint served by the chat pipeline. */
export function completionHandler(deps: GatewayDeps, endpoint: Endpoint) {
  const endpointName = endpoint.name;
  return async function completion(request: FastifyRequest, reply: FastifyReply) {
    const key = request.apiKey!;
    const record = deps.requestLog ? (request.requestLog = recordFor(request, endpointName, deps.requestLog)) : null;
    const asked = endpoint.parse(request.body);
    const body = asked.upstream;
    const model = body.model;
    const stream = body.stream === true;
    if (record) {
      record.model = model;
      record.stream = stream;
    }
    const streamLabel = stream ? "true" : "false";
    const deployments = deps.fleet.current.models.get(model);
    try {
      if (!deployments) {
        throw new NotFoundError(`The model '${model}' does not exist or you do not have access to it.`, {
          param: "model",
          code: "model_not_found",
        });
      }
      if (key.allowedModels.size > 0 && !key.allowedModels.has(model)) {
        throw new ForbiddenError(`This API key may not use the model '${model}'.`, { param: "model", code: "model_not_allowed" });
      }
      if (key.rpmLimit !== null) {
        // Batch requests spend a budget class of their own: a batch never eats the key's live budget.
        const admission = await deps.limiter.admit(request.batchRequest ? batchBudgetId(key.id) : key.id, key.rpmLimit);
        if (!admission.allowed) {
          rateLimited.inc();
          throw new RateLimitError(
            `Rate limit reached for this API key: ${key.rpmLimit} requests per minute.`,
            admission.retryAfterSeconds,
          );
        }
      }
      // Budgets and the token limit: checked here, consumed when the request ends (deps.usage).
      if (deps.usage.accounting && hasQuotas(key)) {
        try {
          const pending = deps.quotas.admit(key);
          if (pending) await pending;
        } catch (error) {
          // A token-limit refusal counts with the RPM limit's; a used-up budget is told by its own code.
          if (error instanceof RateLimitError) rateLimited.inc();
          throw error;
        }
      }
    } catch (error) {
      countUnanswered(deps, key, endpointName, deployments ? model : "unknown", error, streamLabel);
      throw error;
    }

    const timing = new Timing(reply, record);
    const client = new ClientLink(reply);
    const answer: Answer = { key, endpoint, asked, timing, client, accounted: false };
    try {
      if (stream) return await streamCompletion(deps, reply, body, deployments, answer);
      return await jsonCompletion(deps, request, reply, body, deployments, answer);
    } catch (error) {
      // Whatever went wrong meanwhile, a client that left was told nothing: nginx's 499, not the upstream's status.
      const mapped = client.gone ? new ClientClosedError() : upstreamErrorToAppError(error);
      countUnanswered(deps, key, endpointName, model, mapped, streamLabel, answer.accounted);
      if (record) record.overheadMs = timing.overheadMs();
      throw mapped;
    }
  };
}

const complete = (client: ProviderClient, call: UpstreamCall) => client.complete(call);

/** Asks the upstreams for a JSON answer; the serialised answer and the provider that gave it. */
async function completeUpstream(
  deps: GatewayDeps,
  account: Pick<Answer, "key" | "accounted">,
  endpoint: Endpoint,
  { upstream: body, native }: EndpointRequest,
  deployments: readonly DeploymentEntry[],
  timing: Timing,
  upstream: UpstreamRequest,
): Promise<{ payload: string; provider: string }> {
  const call = endpoint.call ?? complete;
  const outcome = await deps.router.run(
    deployments,
    async (deployment) => {
      const client = deployment.provider.client;
      // Decided per deployment: a failover may cross from one form to the other.
      const nativeCalls = native?.callsOf(client);
      const attempt = upstream.attempt(
        { ...(nativeCalls ? native!.body : body), model: deployment.upstreamModel },
        deployment.provider.timeouts.totalMs,
      );
      const started = performance.now();
      let failed = false;
      let failure: unknown;
      try {
        return await (nativeCalls ? nativeCalls.create(attempt) : call(client, attempt));
      } catch (error) {
        failed = true;
        failure = error;
        throw error;
      } finally {
        attempt.done();
        timing.attemptEnded(deployment, started, attempt, failed, failure);
      }
    },
    upstream,
  );
  const answer = outcome.result;
  answer.model = body.model;
  const provider = outcome.deployment.provider.name;
  // Spent by this request's key, whoever else shares the answer (they are cache hits).
  const spent = (usage: TokenUsage | undefined) => {
    deps.usage.answered(account.key, body.model, outcome.deployment, endpoint.name, 200, usage);
    account.accounted = true;
  };
  if (!native) {
    spent(answer.usage as TokenUsage | undefined);
    timing.record?.usage(answer.usage as TokenUsage | undefined);
    return { payload: JSON.stringify(answer), provider };
  }
  const form = native.callsOf(outcome.deployment.provider.client) ? "native" : "translated";
  const usage = form === "native" ? native.usageOf(answer) : (answer.usage as TokenUsage | undefined);
  spent(usage);
  timing.record?.usage(usage);
  return { payload: JSON.stringify({ form, answer } satisfies CachedAnswer), provider };
}

/** Who the answer is for and how it is told. */
interface Answer {
  key: ApiKeyEntry;
  /** This request's usage is recorded (an upstream answered it, or the cache did). */
  accounted: boolean;
  endpoint: Endpoint;
  asked: EndpointRequest;
  timing: Timing;
  client: ClientLink;
}

async function jsonCompletion(
  deps: GatewayDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  body: UpstreamBody,
  deployments: readonly DeploymentEntry[],
  answerTo: Answer,
) {
  const { key, endpoint, asked, timing, client } = answerTo;
  const model = body.model;
  const native = asked.native;
  const decision = (endpoint.cacheDecision ?? cacheDecision)(body, request.headers["x-agenticorp-cache"] as string | undefined);
  let payload: string;
  let answeredBy = "cache";
  let cacheResult: "hit" | "miss" | "bypass" = "bypass";
  if (decision === "cacheable") {
    // Identical concurrent misses share one upstream call, made for all of their clients.
    // A request with a native form is keyed by the client's own body, apart from chat's entries.
    const cacheKey = native ? deps.cache.keyFor(native.body, key.id, endpoint.name) : deps.cache.keyFor(body, key.id);
    const cached = await deps.cache.getOrProduce(cacheKey, model, client, async (waiters) => {
      const answer = await completeUpstream(deps, answerTo, endpoint, asked, deployments, timing, new UpstreamRequest(waiters));
      answeredBy = answer.provider;
      return answer.payload;
    });
    payload = cached.body;
    cacheResult = cached.hit ? "hit" : "miss";
  } else {
    ({ payload, provider: answeredBy } = await completeUpstream(
      deps,
      answerTo,
      endpoint,
      asked,
      deployments,
      timing,
      new UpstreamRequest(client),
    ));
  }
  if (cacheResult === "hit" && deps.usage.accounting) {
    deps.usage.cacheHit(
      key,
      model,
      endpoint.name,
      deps.fleet.current.modelPrices.get(model) ?? null,
      usageOfPayload(payload, native),
    );
    answerTo.accounted = true;
  }
  // The answer came for others sharing it, after this client left.
  if (client.gone) throw new ClientClosedError();
  cacheRequests.inc({ result: cacheResult });
  const overheadMs = timing.overheadMs();
  const sent = asked.presentation.json(payload);
  const record = timing.record;
  if (record) {
    record.cache = cacheResult;
    record.overheadMs = overheadMs;
    if (record.captureBodies) record.responseBody = sent;
  }
  gatewayOverhead.observe(overheadMs / 1000);
  gatewayRequests.inc({
    endpoint: endpoint.name,
    model,
    provider: cacheResult === "hit" ? "cache" : answeredBy,
    status: "200",
    stream: "false",
  });
  gatewayDuration.observe({ endpoint: endpoint.name, model, stream: "false" }, reply.elapsedTime / 1000);
  return reply
    .header("content-type", "application/json; charset=utf-8")
    .header("x-agenticorp-cache", cacheResult)
    .header("x-agenticorp-overhead-ms", overheadMs.toFixed(3))
    .send(sent);
}

interface OpenStream {
  iterator: AsyncIterator<string>;
  first: IteratorResult<string>;
  attempt: UpstreamAttempt;
}

async function streamCompletion(
  deps: GatewayDeps,
  reply: FastifyReply,
  body: UpstreamBody,
  deployments: readonly DeploymentEntry[],
  { key, endpoint: { name: endpoint }, asked: { presentation, native }, timing, client }: Answer,
) {
  const model = body.model;
  const started = performance.now();
  const upstream = new UpstreamRequest(client);
  // Accounting needs every stream's usage: asked for upstream even when the client did not ask, and hidden from it then.
  const stream_options = body.stream_options as { include_usage?: boolean } | null | undefined;
  const hideUsage = deps.usage.accounting && stream_options?.include_usage !== true;
  if (hideUsage) body = { ...body, stream_options: { ...stream_options, include_usage: true } };
  // Attempts end at the upstream's first event: after a byte reaches the client, never retry.
  const outcome = await deps.router.run(
    deployments,
    async (deployment): Promise<OpenStream> => {
      const client = deployment.provider.client;
      const nativeCalls = native?.callsOf(client);
      const attempt = upstream.attempt(
        { ...(nativeCalls ? native!.body : body), model: deployment.upstreamModel },
        deployment.provider.timeouts.totalMs,
      );
      const attemptStarted = performance.now();
      let failed = false;
      let failure: unknown;
      try {
        const iterator = (await (nativeCalls ? nativeCalls.stream(attempt) : client.stream(attempt)))[Symbol.asyncIterator]();
        const first = await iterator.next();
        return { iterator, first, attempt };
      } catch (error) {
        failed = true;
        failure = error;
        attempt.done();
        throw error;
      } finally {
        timing.attemptEnded(deployment, attemptStarted, attempt, failed, failure);
      }
    },
    upstream,
  );
  const { deployment } = outcome;
  const { iterator, first, attempt } = outcome.result;
  const provider = deployment.provider.name;
  const overheadMs = timing.overheadMs();
  gatewayOverhead.observe(overheadMs / 1000);
  cacheRequests.inc({ result: "bypass" });
  const record = timing.record;
  if (record) {
    record.cache = "bypass";
    record.overheadMs = overheadMs;
  }
  const capture = record?.captureBodies ? record : null;

  // Counted once the stream ends, with the usage it reported (the last report wins).
  let reported: TokenUsage | undefined;
  const observer: StreamObserver = {
    firstToken: () => upstreamTimeToFirstToken.observe({ provider }, (performance.now() - started) / 1000),
    usage: (usage) => {
      reported = usage;
      record?.usage(usage);
    },
  };
  const relay: StreamRelay = native?.callsOf(deployment.provider.client)
    ? native.relay(model, observer)
    : new ChatStreamRelay(presentation.stream(), model, observer, hideUsage);
  async function* events(): AsyncGenerator<string> {
    // Unset when the client stopped reading (it hung up): neither the upstream's success nor its failure.
    let outcome: StreamEnding | { ok: false; failure?: UpstreamFailure } | undefined;
    streamsActive.inc();
    try {
      for (let item = first; !item.done; item = await iterator.next()) {
        const text = relay.next(item.value);
        // Ended before the last text is out: a client leaving now had its whole answer.
        outcome = relay.ending;
        if (text) {
          capture?.appendResponse(text);
          yield text;
        }
        if (outcome) break;
      }
      if (!outcome) throw new UpstreamFailure("protocol", relay.unfinished);
    } catch (error) {
      if (!client.gone) {
        // Anything but an UpstreamFailure is a fault of ours: reported, not held against the deployment.
        outcome = { ok: false, failure: error instanceof UpstreamFailure ? error : undefined };
        // Headers are out: the failure is told in-band, as OpenAI does, and the stream ends.
        const message = error instanceof UpstreamFailure ? error.message : "stream interrupted";
        const text = relay.error(message);
        capture?.appendResponse(text);
        yield text;
      }
    } finally {
      streamsActive.dec();
      attempt.done();
      if (!outcome?.ok) {
        attempt.cancel(outcome ? new UpstreamFailure("cancelled", "stream ended after a failure") : clientGone());
        void iterator.return?.();
      }
      deps.router.streamEnded(deployment, outcome?.ok === false ? outcome.failure : undefined);
      record?.streamEnded(outcome);
      const status = outcome === undefined ? 499 : outcome.ok ? 200 : 502;
      deps.usage.answered(key, model, deployment, endpoint, status, reported);
      gatewayRequests.inc({ endpoint, model, provider, status: String(status), stream: "true" });
      if (outcome) gatewayDuration.observe({ endpoint, model, stream: "true" }, reply.elapsedTime / 1000);
    }
  }

  return reply
    .header("content-type", "text/event-stream; charset=utf-8")
    .header("cache-control", "no-cache, no-transform")
    .header("x-accel-buffering", "no")
    .header("x-agenticorp-cache", "bypass")
    .header("x-agenticorp-overhead-ms", overheadMs.toFixed(3))
    .send(Readable.from(events(), { objectMode: false }));
}
