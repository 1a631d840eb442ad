// What this instance served, summed in memory per minute and (key, model, deployment, endpoint,
// status class) until the next flush. Recording a request is a map update: no I/O on the request path.
import type { UsageTokens } from "./prices";

export type StatusClass = "2xx" | "4xx" | "5xx";

export interface UsageRow {
  /** Start of the minute (Unix ms). */
  bucket: number;
  keyId: string;
  model: string;
  deployment: string;
  endpoint: string;
  statusClass: StatusClass;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  cacheHits: number;
  savedUsd: number;
}

export interface UsageEvent {
  keyId: string;
  model: string;
  /** provider/upstream model; "cache" for a hit; "none" when no upstream answered. */
  deployment: string;
  endpoint: string;
  status: number;
  tokens?: UsageTokens;
  costUsd: number;
  cacheHit?: boolean;
  /** What a cache hit would have cost upstream. */
  savedUsd?: number;
}

const MINUTE_MS = 60_000;

const statusClassOf = (status: number): StatusClass => (status >= 500 ? "5xx" : status >= 400 ? "4xx" : "2xx");

export class UsageAccumulator {
  private rows = new Map<string, UsageRow>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.rows.size;
  }

  record(event: UsageEvent): void {
    const at = this.now();
    const bucket = at - (at % MINUTE_MS);
    const statusClass = statusClassOf(event.status);
    const id = `${bucket}\u0000${event.keyId}\u0000${event.model}\u0000${event.deployment}\u0000${event.endpoint}\u0000${statusClass}`;
    let row = this.rows.get(id);
    if (!row) {
      row = {
        bucket,
        keyId: event.keyId,
        model: event.model,
        deployment: event.deployment,
        endpoint: event.endpoint,
        statusClass,
        requests: 0,
        promptTokens: 0,
        completionTokens: 0,
        cachedTokens: 0,
        costUsd: 0,
        cacheHits: 0,
        savedUsd: 0,
      };
      this.rows.set(id, row);
    }
    row.requests++;
    if (event.tokens) {
      row.promptTokens += event.tokens.promptTokens;
      row.completionTokens += event.tokens.completionTokens;
      row.cachedTokens += event.tokens.cachedTokens;
    }
    row.costUsd += event.costUsd;
    if (event.cacheHit) {
      row.cacheHits++;
      row.savedUsd += event.savedUsd ?? 0;
    }
  }

  /** Hands over everything recorded so far and starts afresh. */
  take(): UsageRow[] {
    const taken = [...this.rows.values()];
    this.rows = new Map();
    return taken;
  }
}
