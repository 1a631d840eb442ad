// An open-loop load generator: sends requests at a fixed rate regardless of how fast answers
// come back (so a slow server cannot hide latency by slowing the sender), and records each
// request's latency. Bounded by count.
import { Pool } from "undici";

export interface FixedRateResult {
  sent: number;
  failed: number;
  latenciesMs: number[];
  /** The numeric value of `recordHeader` in each successful response that carried it. */
  headerValues: number[];
}

export async function runFixedRate(options: {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  ratePerSecond: number;
  count: number;
  recordHeader?: string;
}): Promise<FixedRateResult> {
  const origin = new URL(options.url).origin;
  const pool = new Pool(origin, { connections: 128, pipelining: 1 });
  const latenciesMs: number[] = [];
  const headerValues: number[] = [];
  let failed = 0;
  const intervalMs = 1000 / options.ratePerSecond;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < options.count; i++) {
    const due = started + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    // Latency counts from when the request was due, so sender lag is charged to the server;
    // a request sent up to a millisecond early counts from when it was sent.
    const from = Math.min(due, performance.now());
    inFlight.push(
      pool
        .request({ path: options.path, method: "POST", headers: options.headers, body: options.body })
        .then(async (response) => {
          await response.body.dump();
          if (response.statusCode !== 200) failed++;
          else {
            latenciesMs.push(performance.now() - from);
            const recorded = options.recordHeader && response.headers[options.recordHeader];
            if (typeof recorded === "string") headerValues.push(Number(recorded));
          }
        })
        .catch(() => {
          failed++;
        }),
    );
  }
  await Promise.all(inFlight);
  await pool.close();
  return { sent: options.count, failed, latenciesMs, headerValues };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
