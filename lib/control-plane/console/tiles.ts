// The overview's summary tiles from the server's summary: each names the window it reads, so a
// number can be checked against its definition. Pure and client-safe.
import { formatCount, formatPercent, formatRate, formatSeconds } from "./charts";
import type { OverviewSummary, RangeKey } from "./contracts";
import { RANGE_SPECS, RECENT_LATENCY_SECONDS, RECENT_RATE_SECONDS } from "./ranges";

export interface Tile {
  testId: string;
  label: string;
  value: string;
}

const share = (part: number, whole: number) => (whole > 0 ? part / whole : null);

/** "10 s", "1 min", "10 min". */
function formatSpan(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

export function summaryTiles(summary: OverviewSummary, range: RangeKey): Tile[] {
  const over = `last ${RANGE_SPECS[range].label}`;
  const { range: totals, recentRate, recentLatency, peak } = summary;
  const rateSeconds = (recentRate.end - recentRate.start) / 1_000 || RECENT_RATE_SECONDS;
  const latencySeconds = (recentLatency.end - recentLatency.start) / 1_000 || RECENT_LATENCY_SECONDS;
  return [
    { testId: "stat-requests", label: `Requests (${over})`, value: formatCount(totals.requests) },
    {
      testId: "stat-rps",
      label: `Requests/s (last ${formatSpan(rateSeconds)})`,
      value: formatRate(recentRate.requests / rateSeconds),
    },
    {
      testId: "stat-peak",
      label: `Peak ${formatSpan(peak.resolutionSeconds)} rate (${over})`,
      value: formatRate(peak.perSecond),
    },
    {
      testId: "stat-p95",
      label: `Latency p95 (last ${formatSpan(latencySeconds)})`,
      value: formatSeconds(recentLatency.latencyP95Seconds),
    },
    {
      testId: "stat-errors-5xx",
      label: `5xx error rate (${over})`,
      value: formatPercent(share(totals.requests5xx, totals.requests), 2),
    },
    {
      testId: "stat-errors-4xx",
      label: `4xx error rate (${over})`,
      value: formatPercent(share(totals.requests4xx, totals.requests), 2),
    },
    {
      testId: "stat-cache",
      label: `Served from cache (${over})`,
      value: formatPercent(share(totals.cacheHits, totals.requests)),
    },
    {
      testId: "stat-cache-cacheable",
      label: `Cache hit rate, cacheable requests only (${over})`,
      value: formatPercent(share(totals.cacheHits, totals.cacheHits + totals.cacheMisses)),
    },
  ];
}
