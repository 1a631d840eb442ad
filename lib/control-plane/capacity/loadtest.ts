// The npm-native load generator behind `npm run loadtest`: chat completions at a fixed arrival
// rate (open loop: a slow gateway does not slow the arrivals, so latency under load is measured
// honestly), bounded in rate, duration and requests in flight, every outcome counted.
import { Agent, request } from "undici";

export interface LoadTestOptions {
  /** The gateway or balancer, e.g. http://127.0.0.1:3000 */
  url: string;
  key: string;
  model: string;
  ratePerSecond: number;
  seconds: number;
  stream: boolean;
  /** Arrivals beyond this many in flight are counted as skipped, not sent. */
  maxInFlight: number;
  timeoutMs: number;
  /** Called about once a second with the running totals. */
  onProgress?: (progress: { elapsedSeconds: number; sent: number; ok: number; errors: number; inFlight: number }) => void;
}

const LOADTEST_LIMITS = { ratePerSecond: 5_000, seconds: 3_600, maxInFlight: 10_000 } as const;

export interface Percentiles {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadTestReport {
  url: string;
  stream: boolean;
  targetRatePerSecond: number;
  durationSeconds: number;
  sent: number;
  skipped: number;
  ok: number;
  errors: number;
  /** "429", "502", "network: ECONNREFUSED", "truncated stream", ... → count. */
  errorsByKind: Record<string, number>;
  /** Successful responses per second over the run. */
  throughputPerSecond: number;
  /** Seconds, successful requests only: whole response. */
  latency: Percentiles | null;
  /** Seconds to the first byte of the body (streams: the first event). */
  timeToFirstByte: Percentiles | null;
}

/** Nearest-rank percentiles of a sample, in its unit. Null for an empty sample. */
export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    p50: rank(0.5),
    p90: rank(0.9),
    p95: rank(0.95),
    p99: rank(0.99),
    max: sorted.at(-1)!,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

export function checkOptions(
  o: Pick<LoadTestOptions, "url" | "ratePerSecond" | "seconds" | "maxInFlight" | "key">,
): string | null {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return `--url ${o.url} is not a URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "--url must be http:// or https://";
  if (!o.key) return "--key (or AGENTICORP_KEY) is required";
  if (!(o.ratePerSecond > 0 && o.ratePerSecond <= LOADTEST_LIMITS.ratePerSecond))
    return `--rps must be above 0 and at most ${LOADTEST_LIMITS.ratePerSecond}`;
  if (!(o.seconds > 0 && o.seconds <= LOADTEST_LIMITS.seconds))
    return `--seconds must be above 0 and at most ${LOADTEST_LIMITS.seconds}`;
  if (!(Number.isInteger(o.maxInFlight) && o.maxInFlight > 0 && o.maxInFlight <= LOADTEST_LIMITS.maxInFlight))
    return `--max-in-flight must be 1 to ${LOADTEST_LIMITS.maxInFlight}`;
  return null;
}

function errorKind(error: unknown): string {
  const e = error as { code?: string; name?: string; cause?: { code?: string } };
  return `network: ${e.code ?? e.cause?.code ?? e.name ?? "error"}`;
}

export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestReport> {
  const problem = checkOptions(options);
  if (problem) throw new RangeError(problem);
  const base = options.url.replace(/\/+$/, "");
  const agent = new Agent({ connections: Math.min(options.maxInFlight, 1_024), keepAliveTimeout: 4_000 });
  const latencies: number[] = [];
  const firstBytes: number[] = [];
  const errorsByKind: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let skipped = 0;
  let ok = 0;
  let errors = 0;
  const fail = (kind: string) => {
    errors++;
    errorsByKind[kind] = (errorsByKind[kind] ?? 0) + 1;
  };
  const body = (n: number) =>
    JSON.stringify({
      model: options.model,
      stream: options.stream,
      temperature: 0.7,
      messages: [{ role: "user", content: `load test request ${n}: summarise horizontal scaling in one sentence` }],
    });

  const one = async (n: number) => {
    const started = performance.now();
    try {
      const response = await request(`${base}/v1/chat/completions`, {
        method: "POST",
        dispatcher: agent,
        headers: { authorization: `Bearer ${options.key}`, "content-type": "application/json" },
        body: body(n),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      let text = "";
      let first = true;
      for await (const chunk of response.body) {
        if (first) firstBytes.push((performance.now() - started) / 1000);
        first = false;
        text += (chunk as Buffer).toString();
      }
      if (response.statusCode !== 200) return fail(String(response.statusCode));
      if (options.stream && !text.trimEnd().endsWith("data: [DONE]")) return fail("truncated stream");
      ok++;
      latencies.push((performance.now() - started) / 1000);
    } catch (error) {
      fail((error as Error).name === "TimeoutError" ? "timeout" : errorKind(error));
    }
  };

  const startedAt = performance.now();
  const period = 1000 / options.ratePerSecond;
  const total = Math.round(options.ratePerSecond * options.seconds);
  let lastProgress = startedAt;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Catch up on arrivals a busy event loop delayed: the rate stays the rate.
      while (sent + skipped < total && startedAt + (sent + skipped) * period <= now) {
        if (inFlight.size >= options.maxInFlight) {
          skipped++;
          continue;
        }
        const n = sent++;
        const pending: Promise<void> = one(n).finally(() => inFlight.delete(pending));
        inFlight.add(pending);
      }
      if (options.onProgress && now - lastProgress >= 1_000) {
        lastProgress = now;
        options.onProgress({ elapsedSeconds: Math.round((now - startedAt) / 1000), sent, ok, errors, inFlight: inFlight.size });
      }
      if (sent + skipped >= total) return resolve();
      setTimeout(tick, Math.max(1, startedAt + (sent + skipped) * period - performance.now()));
    };
    tick();
  });
  await Promise.allSettled([...inFlight]);
  const durationSeconds = (performance.now() - startedAt) / 1000;
  await agent.close();
  return {
    url: base,
    stream: options.stream,
    targetRatePerSecond: options.ratePerSecond,
    durationSeconds: Math.round(durationSeconds * 100) / 100,
    sent,
    skipped,
    ok,
    errors,
    errorsByKind,
    throughputPerSecond: Math.round((ok / Math.max(options.seconds, durationSeconds)) * 100) / 100,
    latency: percentiles(latencies),
    timeToFirstByte: percentiles(firstBytes),
  };
}

const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;

/** The report as a person reads it (wrk-like). */
export function formatReport(r: LoadTestReport): string {
  const lines = [
    `Load test of ${r.url}/v1/chat/completions (${r.stream ? "streaming" : "JSON"}), ${r.targetRatePerSecond} req/s for ${r.durationSeconds} s`,
    `  sent ${r.sent}, ok ${r.ok}, errors ${r.errors}${r.skipped ? `, skipped ${r.skipped} (too many in flight)` : ""}`,
    `  throughput ${r.throughputPerSecond} req/s`,
  ];
  const table = (name: string, p: Percentiles | null) =>
    p
      ? `  ${name}: p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  max ${ms(p.max)}  mean ${ms(p.mean)}`
      : `  ${name}: no successful request`;
  lines.push(table("latency", r.latency));
  if (r.stream) lines.push(table("first byte", r.timeToFirstByte));
  for (const [kind, count] of Object.entries(r.errorsByKind).sort((a, b) => b[1] - a[1])) lines.push(`  error ${kind}: ${count}`);
  return lines.join("\n");
}
