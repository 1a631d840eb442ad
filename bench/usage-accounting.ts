// node --import tsx bench/usage-accounting.ts — the CPU usage accounting adds per completion
// request, measured in-process where a shared machine's noise cannot reach it: the budget and
// token-limit admission and the accounting after the answer (price, accumulator, spend counter,
// budget consumption), for a key with a daily and monthly budget and a TPM limit, against the
// gateway's CPU per request (bench:overhead). The quota counters are a stand-in pool answering
// every claim at once with a large grant (claims are rare: one per batch, off this path's cost).
import type pg from "pg";
import type { ApiKeyEntry, DeploymentEntry } from "../lib/data-plane/fleet-config/snapshot";
import { UsageMeter } from "../lib/data-plane/usage/meter";
import { DEFAULT_PRICES } from "../lib/data-plane/usage/prices";
import { KeyQuotas } from "../lib/data-plane/usage/quotas";

const REQUESTS = 2_000_000;
const standInPool = {
  query: async () => ({
    rows: [
      {
        used: 1e12,
        last_grant: 1e12,
        window_start_ms: "0",
        window_end_ms: String(Date.now() + 3_600_000),
        now_ms: String(Date.now()),
      },
    ],
  }),
} as unknown as pg.Pool;

const quotas = new KeyQuotas({ pool: standInPool, instanceCount: () => 1, timeZone: "UTC" });
const meter = new UsageMeter({
  accounting: true,
  keyLabel: false,
  onSpend: (key, tokens, cost) => quotas.spent(key, tokens, cost),
});
const keys: ApiKeyEntry[] = Array.from({ length: 10 }, (_, i) => ({
  id: `00000000-0000-0000-0000-00000000000${i}`,
  name: `key ${i}`,
  rpmLimit: null,
  tpmLimit: 1e9,
  budgetDailyUsd: 1e6,
  captureBodies: false,
  budgetMonthlyUsd: 1e7,
  allowedModels: new Set<string>(),
}));
const deployment = {
  id: "d",
  modelName: "bench",
  upstreamModel: "sim-fast",
  weight: 1,
  label: "sim/sim-fast",
  price: DEFAULT_PRICES["sim-fast"]!,
} as unknown as DeploymentEntry;
const usage = { prompt_tokens: 12, completion_tokens: 40 };

// First admissions claim (asynchronously); after that every admission is synchronous.
for (const key of keys) await quotas.admit(key);

function run(n: number): number {
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const key = keys[i % keys.length]!;
    const pending = quotas.admit(key);
    if (pending) throw new Error("an admission needed a claim inside the measured loop");
    meter.answered(key, "bench", deployment, "chat", 200, usage);
    if (i % 100_000 === 0) meter.accumulator.take(); // as the flusher does
  }
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1_000) / n; // ns per request
}

run(200_000); // warm up
const nsPerRequest = run(REQUESTS);
console.log(
  `usage accounting with a budgeted, TPM-limited key: ${nsPerRequest.toFixed(0)} ns of CPU per request (${REQUESTS.toLocaleString("en-US")} requests)`,
);
console.log(
  `against the gateway's 290–440 µs of CPU per request (docs/performance.md, bench:overhead): ${((nsPerRequest / 1_000 / 290) * 100).toFixed(2)}% at most`,
);
