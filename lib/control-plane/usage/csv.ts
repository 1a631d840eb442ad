// The usage export's CSV: one line per stored bucket and (key, model, deployment, endpoint, status
// class), RFC 4180 quoting, costs in USD with nine decimals (exact to the nano-dollar).
const HEADER = [
  "bucket_start",
  "key_id",
  "key_name",
  "model",
  "deployment",
  "endpoint",
  "status_class",
  "requests",
  "prompt_tokens",
  "completion_tokens",
  "cached_tokens",
  "cost_usd",
  "cache_hits",
  "saved_usd",
];

const cell = (value: string | number | null) => {
  const text = value === null ? "" : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export interface UsageCsvRow {
  bucket: Date;
  key_id: string;
  key_name: string | null;
  model: string;
  deployment: string;
  endpoint: string;
  status_class: string;
  requests: string | number;
  prompt_tokens: string | number;
  completion_tokens: string | number;
  cached_tokens: string | number;
  cost_usd: number;
  cache_hits: string | number;
  saved_usd: number;
}

export function usageCsv(rows: readonly UsageCsvRow[]): string {
  const lines = [HEADER.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.bucket.toISOString(),
        r.key_id,
        r.key_name,
        r.model,
        r.deployment,
        r.endpoint,
        r.status_class,
        r.requests,
        r.prompt_tokens,
        r.completion_tokens,
        r.cached_tokens,
        r.cost_usd.toFixed(9),
        r.cache_hits,
        r.saved_usd.toFixed(9),
      ]
        .map(cell)
        .join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}
