// Per-request accounting for the gateway: each answer's tokens priced in memory, added to the
// accumulator the flusher writes in batches, to the Prometheus spend counters, and to the key's
// fleet-wide budgets and token limit. USAGE_ACCOUNTING=off leaves only the token counter that
// predates it (agenticorp_tokens_total), for measuring what accounting costs.
import type { ApiKeyEntry, DeploymentEntry } from "../fleet-config/snapshot";
import { cacheSaved, keySpend, keyTokens, spend, tokens } from "../../platform/metrics/gateway";
import type { TokenUsage } from "../gateway/presentation";
import { UsageAccumulator } from "./accumulator";
import { costOf, type ModelPrice, type UsageTokens } from "./prices";

export interface UsageMeterOptions {
  /** False: no accumulator, no spend counters, no budget or TPM consumption. */
  accounting: boolean;
  /** Also count spend and tokens per key on /metrics (METRICS_KEY_LABEL). */
  keyLabel: boolean;
  /** Told every priced answer: the key's budgets and token limit consume it. */
  onSpend?: (key: ApiKeyEntry, tokens: number, costUsd: number) => void;
  now?: () => number;
}

/** Chat's usage object in the accumulator's terms; undefined when the upstream reported none. */
function usageTokens(usage: TokenUsage | undefined | null): UsageTokens | undefined {
  if (!usage) return undefined;
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

export class UsageMeter {
  readonly accumulator: UsageAccumulator;

  constructor(private readonly options: UsageMeterOptions) {
    this.accumulator = new UsageAccumulator(options.now);
  }

  get accounting(): boolean {
    return this.options.accounting;
  }

  /** An upstream answered (JSON, or a stream that ended): its tokens are spent. Returns the cost in USD. */
  answered(
    key: ApiKeyEntry,
    model: string,
    deployment: DeploymentEntry,
    endpoint: string,
    status: number,
    usage: TokenUsage | undefined,
  ): number {
    const counted = usageTokens(usage);
    if (counted) {
      if (counted.promptTokens) tokens.inc({ model, direction: "prompt" }, counted.promptTokens);
      if (counted.completionTokens) tokens.inc({ model, direction: "completion" }, counted.completionTokens);
    }
    if (!this.options.accounting) return 0;
    const costUsd = counted ? costOf(deployment.price ?? null, counted) : 0;
    this.accumulator.record({ keyId: key.id, model, deployment: deployment.label, endpoint, status, tokens: counted, costUsd });
    if (costUsd > 0) spend.inc({ model }, costUsd);
    if (this.options.keyLabel && counted) {
      keySpend.inc({ key: key.id }, costUsd);
      keyTokens.inc({ key: key.id, direction: "prompt" }, counted.promptTokens);
      keyTokens.inc({ key: key.id, direction: "completion" }, counted.completionTokens);
    }
    if (counted) this.options.onSpend?.(key, counted.promptTokens + counted.completionTokens, costUsd);
    return costUsd;
  }

  /** Served from the response cache: nothing spent, the answer's cost saved. */
  cacheHit(key: ApiKeyEntry, model: string, endpoint: string, price: ModelPrice | null, usage: TokenUsage | undefined): void {
    if (!this.options.accounting) return;
    const savedUsd = costOf(price, usageTokens(usage) ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 });
    this.accumulator.record({
      keyId: key.id,
      model,
      deployment: "cache",
      endpoint,
      status: 200,
      costUsd: 0,
      cacheHit: true,
      savedUsd,
    });
    if (savedUsd > 0) cacheSaved.inc({ model }, savedUsd);
  }

  /** No upstream answered (refused here, or every attempt failed): a request, no tokens. */
  unanswered(key: ApiKeyEntry, model: string, endpoint: string, status: number): void {
    if (!this.options.accounting) return;
    this.accumulator.record({ keyId: key.id, model, deployment: "none", endpoint, status, costUsd: 0 });
  }
}
