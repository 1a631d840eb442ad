// Model prices in USD per million tokens and the cost of one answer. Three sources, later ones
// winning: built-in defaults for common public models (list prices; the simulator has one so load
// tests show spend), the PRICES_FILE configuration file, and prices admins set in the console
// (model_prices). Everything here is in memory: instances resolve each deployment's price when
// the fleet configuration loads, so a request's cost is arithmetic, never a lookup in the database.
import { z } from "zod";

export const modelPrice = z.object({
  inputPerMillion: z.number().min(0).max(1_000_000),
  outputPerMillion: z.number().min(0).max(1_000_000),
  /** Cached input tokens where the upstream reports them; null: charged as input. */
  cachedInputPerMillion: z.number().min(0).max(1_000_000).nullable().default(null),
});
export type ModelPrice = z.infer<typeof modelPrice>;

const price = (inputPerMillion: number, outputPerMillion: number, cachedInputPerMillion: number | null = null): ModelPrice => ({
  inputPerMillion,
  outputPerMillion,
  cachedInputPerMillion,
});

/** Public list prices (USD per 1M tokens) of common models; dated variants match by prefix. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  "gpt-4o": price(2.5, 10, 1.25),
  "gpt-4o-mini": price(0.15, 0.6, 0.075),
  "gpt-4.1": price(2, 8, 0.5),
  "gpt-4.1-mini": price(0.4, 1.6, 0.1),
  "gpt-4.1-nano": price(0.1, 0.4, 0.025),
  "gpt-4-turbo": price(10, 30),
  "gpt-3.5-turbo": price(0.5, 1.5),
  o1: price(15, 60, 7.5),
  o3: price(2, 8, 0.5),
  "o3-mini": price(1.1, 4.4, 0.55),
  "o4-mini": price(1.1, 4.4, 0.275),
  "text-embedding-3-small": price(0.02, 0),
  "text-embedding-3-large": price(0.13, 0),
  "text-embedding-ada-002": price(0.1, 0),
  "claude-3-haiku": price(0.25, 1.25, 0.03),
  "claude-3-5-haiku": price(0.8, 4, 0.08),
  "claude-haiku-4-5": price(1, 5, 0.1),
  "claude-3-5-sonnet": price(3, 15, 0.3),
  "claude-3-7-sonnet": price(3, 15, 0.3),
  "claude-sonnet-4": price(3, 15, 0.3),
  "claude-opus-4": price(15, 75, 1.5),
  // The built-in simulator: a round price so load tests show spend.
  "sim-fast": price(1, 2, 0.5),
  "sim-realistic": price(1, 2, 0.5),
};

/** A prices file (PRICES_FILE, YAML or JSON): model name → price. */
export const priceFile = z.record(z.string().trim().min(1).max(200), modelPrice);

/** Token counts of one answer, in chat's terms (prompt tokens include the cached ones, as OpenAI reports them). */
export interface UsageTokens {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** USD for one answer's tokens at `price`; 0 without a price. */
export function costOf(price: ModelPrice | null, usage: UsageTokens): number {
  if (!price) return 0;
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const cachedRate = price.cachedInputPerMillion ?? price.inputPerMillion;
  return (
    ((usage.promptTokens - cached) * price.inputPerMillion +
      cached * cachedRate +
      usage.completionTokens * price.outputPerMillion) /
    1_000_000
  );
}

/** The prices in force: console rows over the file over the defaults. */
export class PriceTable {
  private readonly prices: ReadonlyMap<string, ModelPrice>;

  constructor(...layers: ReadonlyArray<Readonly<Record<string, ModelPrice>> | ReadonlyMap<string, ModelPrice>>) {
    const merged = new Map<string, ModelPrice>();
    for (const layer of layers) {
      const entries: Array<[string, ModelPrice]> =
        layer instanceof Map
          ? [...(layer as ReadonlyMap<string, ModelPrice>).entries()]
          : Object.entries(layer as Readonly<Record<string, ModelPrice>>);
      for (const [model, p] of entries) merged.set(model, p);
    }
    this.prices = merged;
  }

  /** Every model with a price, and the price. */
  entries(): ReadonlyMap<string, ModelPrice> {
    return this.prices;
  }

  /**
   * The price of a model name: an exact entry, else the longest entry the name starts with followed
   * by "-" (dated variants such as gpt-4o-2024-08-06), else null.
   */
  lookup(model: string): ModelPrice | null {
    const exact = this.prices.get(model);
    if (exact) return exact;
    let best: string | undefined;
    for (const name of this.prices.keys()) {
      if (model.startsWith(`${name}-`) && (best === undefined || name.length > best.length)) best = name;
    }
    return best === undefined ? null : this.prices.get(best)!;
  }

  /** The price of a deployment: its public model's own entry first (an admin's choice), then its upstream model's. */
  forDeployment(publicModel: string, upstreamModel: string): ModelPrice | null {
    return this.prices.get(publicModel) ?? this.lookup(upstreamModel) ?? this.lookup(publicModel);
  }
}
