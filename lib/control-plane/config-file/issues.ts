// A configuration file that cannot be applied: every problem found, each with its place in the
// file (`providers[1].apiKey.env`), so one run shows everything to fix. Nothing is applied.
import { type z } from "zod";

export interface ConfigIssue {
  /** Where in the file: `providers[1].deployments[0].weight`; empty for the file as a whole. */
  path: string;
  message: string;
}

export class ConfigFileError extends Error {
  override name = "ConfigFileError";
  constructor(
    readonly issues: ConfigIssue[],
    readonly source = "configuration file",
  ) {
    super(`${source} refused, nothing applied:\n${issues.map((i) => `  ${i.path || "(file)"}: ${i.message}`).join("\n")}`);
  }
}

/** `["providers", 1, "apiKey"]` → `providers[1].apiKey`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (text, part) => (typeof part === "number" ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)),
    "",
  );
}

export function issuesFromZod(error: z.ZodError): ConfigIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}
