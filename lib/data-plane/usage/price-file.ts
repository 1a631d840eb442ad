// PRICES_FILE: a YAML (or JSON) map of model name → price, read once at start. A bad file stops the
// process with a message naming the file and the entry, like a bad environment variable.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { type ModelPrice, priceFile } from "./prices";

export class PriceFileError extends Error {
  override name = "PriceFileError";
}

/** Parses a prices file's text; `source` names it in errors. */
export function parsePriceFile(text: string, source: string): Record<string, ModelPrice> {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new PriceFileError(`Invalid prices file ${source}: ${(error as Error).message}`);
  }
  const result = priceFile.safeParse(document ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new PriceFileError(`Invalid prices file ${source}: ${issue.path.join(".") || "(top level)"} ${issue.message}`);
  }
  return result.data;
}

export function readPriceFile(path: string | undefined): Record<string, ModelPrice> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new PriceFileError(
      `Cannot read the prices file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  return parsePriceFile(text, path);
}
