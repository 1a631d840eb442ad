// Prices and the cost of an answer: the arithmetic budgets and the Usage page rest on.
import { describe, expect, it } from "vitest";
import { parsePriceFile, PriceFileError } from "../../lib/data-plane/usage/price-file";
import { costOf, DEFAULT_PRICES, PriceTable } from "../../lib/data-plane/usage/prices";

describe("costOf", () => {
  it("charges input, cached input and output at their rates per million tokens", () => {
    const price = { inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25 };
    // 1,000 prompt tokens of which 400 cached, 500 completion tokens.
    expect(costOf(price, { promptTokens: 1_000, cachedTokens: 400, completionTokens: 500 })).toBeCloseTo(
      (600 * 2.5 + 400 * 1.25 + 500 * 10) / 1e6,
      12,
    );
  });

  it("charges cached tokens as input when the model has no cached rate, and never more cached than prompt tokens", () => {
    const price = { inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: null };
    expect(costOf(price, { promptTokens: 100, cachedTokens: 50, completionTokens: 0 })).toBeCloseTo(100 / 1e6, 12);
    const cachedRate = { ...price, cachedInputPerMillion: 0.5 };
    expect(costOf(cachedRate, { promptTokens: 10, cachedTokens: 50, completionTokens: 0 })).toBeCloseTo(5 / 1e6, 12);
  });

  it("is zero without a price", () => {
    expect(costOf(null, { promptTokens: 1_000, cachedTokens: 0, completionTokens: 1_000 })).toBe(0);
  });
});

describe("PriceTable", () => {
  it("finds dated variants by their longest prefix and nothing for unknown models", () => {
    const table = new PriceTable(DEFAULT_PRICES);
    expect(table.lookup("gpt-4o-2024-08-06")).toEqual(DEFAULT_PRICES["gpt-4o"]);
    expect(table.lookup("gpt-4o-mini-2024-07-18")).toEqual(DEFAULT_PRICES["gpt-4o-mini"]);
    expect(table.lookup("claude-3-5-sonnet-20241022")).toEqual(DEFAULT_PRICES["claude-3-5-sonnet"]);
    expect(table.lookup("gpt-4omega")).toBeNull();
    expect(table.lookup("my-own-model")).toBeNull();
  });

  it("lets later layers win and prices a deployment by its public model before its upstream model", () => {
    const file = { "gpt-4o": { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: null } };
    const consoleRows = new Map([["team-model", { inputPerMillion: 9, outputPerMillion: 9, cachedInputPerMillion: null }]]);
    const table = new PriceTable(DEFAULT_PRICES, file, consoleRows);
    expect(table.lookup("gpt-4o")).toEqual(file["gpt-4o"]);
    expect(table.forDeployment("team-model", "gpt-4o")).toEqual(consoleRows.get("team-model"));
    expect(table.forDeployment("alias", "gpt-4o-2024-08-06")).toEqual(file["gpt-4o"]);
    expect(table.forDeployment("alias", "unknown-upstream")).toBeNull();
  });

  it("prices the simulator, so load tests show spend", () => {
    expect(new PriceTable(DEFAULT_PRICES).lookup("sim-fast")).toEqual({
      inputPerMillion: 1,
      outputPerMillion: 2,
      cachedInputPerMillion: 0.5,
    });
  });
});

describe("parsePriceFile", () => {
  it("reads YAML with the cached rate optional", () => {
    expect(parsePriceFile("gpt-4o:\n  inputPerMillion: 2\n  outputPerMillion: 8\n", "prices.yaml")).toEqual({
      "gpt-4o": { inputPerMillion: 2, outputPerMillion: 8, cachedInputPerMillion: null },
    });
    expect(parsePriceFile("", "empty.yaml")).toEqual({});
  });

  it("names the file and the entry that is wrong", () => {
    expect(() => parsePriceFile("gpt-4o:\n  inputPerMillion: -1\n  outputPerMillion: 8\n", "prices.yaml")).toThrow(
      PriceFileError,
    );
    expect(() => parsePriceFile("gpt-4o:\n  inputPerMillion: -1\n  outputPerMillion: 8\n", "prices.yaml")).toThrow(
      /prices\.yaml: gpt-4o\.inputPerMillion/,
    );
    expect(() => parsePriceFile("[1, 2", "bad.yaml")).toThrow(/Invalid prices file bad\.yaml/);
  });
});
