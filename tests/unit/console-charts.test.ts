// Chart data preparation: the grid, gaps as nulls (never zeros), units, and the summary figures.
import { describe, expect, it } from "vitest";
import {
  findSeries,
  formatBytes,
  formatPercent,
  formatRate,
  formatSeconds,
  isIsolated,
  latestValue,
  meanValue,
  sparklinePoints,
  stepOf,
  toChartData,
  totalFromRate,
} from "../../lib/control-plane/console/charts";
import { formatDeployments, parseDeployments } from "../../lib/control-plane/console/deployments-text";
import { RANGE_SPECS, timeWindowFor } from "../../lib/control-plane/console/ranges";
import { RANGES } from "../../lib/control-plane/console/contracts";
import { summaryTiles } from "../../lib/control-plane/console/tiles";

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);

describe("toChartData", () => {
  const step = (i: number) => T0 + i * 15_000;

  it("makes one row per point time and keeps null points as gaps", () => {
    const data = toChartData([
      {
        name: "total",
        points: [
          { t: step(0), v: 2 },
          { t: step(1), v: null },
          { t: step(2), v: 4 },
          { t: step(3), v: null },
        ],
      },
    ]);
    expect(data.rows.map((r) => r.t)).toEqual([step(0), step(1), step(2), step(3)]);
    expect(data.rows.map((r) => r.s0)).toEqual([2, null, 4, null]);
    expect(data.keys).toEqual([{ key: "s0", name: "total" }]);
    expect(data.hasData).toBe(true);
  });

  it("keeps a zero a zero", () => {
    const data = toChartData([
      {
        name: "total",
        points: [
          { t: step(0), v: 0 },
          { t: step(1), v: null },
        ],
      },
    ]);
    expect(data.rows.map((r) => r.s0)).toEqual([0, null]);
    expect(data.hasData).toBe(true);
  });

  it("leaves a gap where one series has no point at a time another has", () => {
    const data = toChartData([
      {
        name: "a",
        points: [
          { t: step(0), v: 1 },
          { t: step(1), v: 2 },
        ],
      },
      { name: "b", points: [{ t: step(1), v: 3 }] },
    ]);
    expect(data.rows.map((r) => [r.s0, r.s1])).toEqual([
      [1, null],
      [2, 3],
    ]);
  });

  it("reports no data when every point is empty or not finite", () => {
    expect(
      toChartData([
        {
          name: "p95",
          points: [
            { t: step(0), v: null },
            { t: step(1), v: Number.NaN },
          ],
        },
      ]).hasData,
    ).toBe(false);
    expect(toChartData([]).rows).toEqual([]);
  });

  it("scales units and orders series by name", () => {
    const data = toChartData(
      [
        { name: "p99", points: [{ t: T0, v: 0.5 }] },
        { name: "p50", points: [{ t: T0, v: 0.1 }] },
        { name: "p95", points: [{ t: T0, v: 0.25 }] },
      ],
      1_000,
      ["p50", "p95", "p99"],
    );
    expect(data.keys.map((k) => k.name)).toEqual(["p50", "p95", "p99"]);
    expect([data.rows[0]!.s0, data.rows[0]!.s1, data.rows[0]!.s2]).toEqual([100, 250, 500]);
  });

  it("uses positional keys, so instance ids with dots and colons are safe data keys", () => {
    const data = toChartData([{ name: "host.example.com:3000", points: [{ t: T0, v: 1 }] }]);
    expect(data.keys[0]).toEqual({ key: "s0", name: "host.example.com:3000" });
  });

  it("sorts rows by time whatever order the points came in", () => {
    const data = toChartData([
      {
        name: "x",
        points: [
          { t: step(2), v: 3 },
          { t: step(0), v: 1 },
        ],
      },
    ]);
    expect(data.rows.map((r) => r.t)).toEqual([step(0), step(2)]);
  });
});

describe("isIsolated", () => {
  it("marks values with no valued neighbour, so a lone sample between gaps is still drawn", () => {
    const { rows } = toChartData([
      { name: "x", points: [0, 1, 2, 3, 4, 5].map((i) => ({ t: T0 + i * 10_000, v: [null, 5, null, 1, 2, null][i]! })) },
    ]);
    expect(rows.map((_, i) => isIsolated(rows, "s0", i))).toEqual([false, true, false, false, false, false]);
    expect(isIsolated(rows, "s0", 99)).toBe(false);
    const { rows: single } = toChartData([{ name: "x", points: [{ t: T0, v: 0 }] }]);
    expect(isIsolated(single, "s0", 0)).toBe(true);
  });
});

describe("stepOf", () => {
  it("reads the step from the points, or falls back", () => {
    expect(
      stepOf(
        {
          name: "x",
          points: [
            { t: T0, v: 1 },
            { t: T0 + 20_000, v: null },
            { t: T0 + 40_000, v: 2 },
          ],
        },
        10,
      ),
    ).toBe(20);
    expect(stepOf({ name: "x", points: [{ t: T0, v: 1 }] }, 10)).toBe(10);
    expect(stepOf(undefined, 60)).toBe(60);
  });
});

describe("summary figures", () => {
  const series = {
    name: "total",
    points: [
      { t: T0, v: 2 },
      { t: T0 + 15_000, v: null },
      { t: T0 + 30_000, v: 4 },
      { t: T0 + 45_000, v: null },
    ],
  };

  it("takes the latest value that exists", () => {
    expect(latestValue(series)).toBe(4);
    expect(latestValue({ name: "x", points: [{ t: 1, v: null }] })).toBeNull();
    expect(latestValue(undefined)).toBeNull();
  });

  it("averages without counting gaps as zero", () => {
    expect(meanValue(series)).toBe(3);
    expect(meanValue({ name: "x", points: [] })).toBeNull();
  });

  it("integrates a per-second rate over its own steps", () => {
    expect(totalFromRate(series, 60)).toBe(90);
    expect(
      totalFromRate(
        {
          name: "x",
          points: [
            { t: 0, v: 2 },
            { t: 10_000, v: 4 },
          ],
        },
        60,
      ),
    ).toBe(60);
    expect(totalFromRate({ name: "x", points: [{ t: 1, v: null }] }, 15)).toBeNull();
  });

  it("finds series by name and sorts sparkline points by time", () => {
    expect(findSeries([series], "total")).toBe(series);
    expect(findSeries([series], "other")).toBeUndefined();
    expect(
      sparklinePoints({
        name: "x",
        points: [
          { t: 2, v: 1 },
          { t: 1, v: null },
        ],
      }),
    ).toEqual([
      { t: 1, v: null },
      { t: 2, v: 1 },
    ]);
  });

  it("formats units and shows a dash for no data", () => {
    expect(formatSeconds(0.1234)).toBe("123 ms");
    expect(formatSeconds(0.0042)).toBe("4.2 ms");
    expect(formatSeconds(2.5)).toBe("2.50 s");
    expect(formatSeconds(null)).toBe("—");
    expect(formatPercent(0.0123, 2)).toBe("1.23%");
    expect(formatPercent(null)).toBe("—");
    expect(formatRate(12.34)).toBe("12.3/s");
    expect(formatRate(0.25)).toBe("0.25/s");
    expect(formatBytes(300 * 1024 * 1024)).toBe("300 MiB");
  });
});

describe("time windows", () => {
  it.each(RANGES)("%s spans its steps, the newest one partial, up to the last whole 10 s", (range) => {
    const now = T0 + 12_345;
    const window = timeWindowFor(range, now);
    const { seconds, stepSeconds } = RANGE_SPECS[range];
    const stepMs = stepSeconds * 1_000;
    // Ends at the last whole 10 s bucket: the current step is included, not dropped.
    expect(window.end.getTime()).toBe(T0 + 10_000);
    // Starts on a step boundary, the span's whole steps ending where the newest one ends.
    expect(window.start.getTime() % stepMs).toBe(0);
    expect(Math.ceil((window.end.getTime() - window.start.getTime()) / stepMs)).toBe(seconds / stepSeconds);
    expect(window.end.getTime() - window.start.getTime()).toBeGreaterThan(seconds * 1_000 - stepMs);
    expect(window.end.getTime() - window.start.getTime()).toBeLessThanOrEqual(seconds * 1_000);
    expect(stepSeconds % 10).toBe(0);
    expect(seconds / stepSeconds).toBeGreaterThanOrEqual(60);
    expect(seconds / stepSeconds).toBeLessThanOrEqual(100);
  });

  it("spans exactly the range when now is on a step boundary", () => {
    const window = timeWindowFor("7d", Date.UTC(2026, 10, 28, 12, 0, 0));
    expect(window.end.getTime() - window.start.getTime()).toBe(7 * 86_400_000);
  });
});

describe("deployments as text", () => {
  it("parses model = upstream with an optional weight and round-trips", () => {
    const text = "gpt-4o = gpt-4o-2024-08-06\n\n# comment\nfast = sim-fast * 3";
    const parsed = parseDeployments(text);
    expect(parsed.error).toBeNull();
    expect(parsed.deployments).toEqual([
      { modelName: "gpt-4o", upstreamModel: "gpt-4o-2024-08-06", weight: 1 },
      { modelName: "fast", upstreamModel: "sim-fast", weight: 3 },
    ]);
    expect(parseDeployments(formatDeployments(parsed.deployments)).deployments).toEqual(parsed.deployments);
  });

  it("names the line it cannot read", () => {
    expect(parseDeployments("a = b\nnonsense").error).toMatch(/^line 2:/);
  });
});

describe("summary tiles", () => {
  const totals = (start: number, end: number, requests: number) => ({
    start,
    end,
    requests,
    requests4xx: 30,
    requests5xx: 10,
    cacheHits: 60,
    cacheMisses: 4,
    cacheBypass: requests - 64,
    latencyP95Seconds: 0.473,
  });
  const summary = {
    range: totals(T0 - 6 * 3_600_000, T0, 1_000),
    recentRate: totals(T0 - 60_000, T0, 120),
    recentLatency: totals(T0 - 300_000, T0, 500),
    peak: { perSecond: 2_485, resolutionSeconds: 10, at: T0 - 60_000 },
  };
  const byId = Object.fromEntries(summaryTiles(summary, "6h").map((t) => [t.testId, t]));

  it("names the window every tile reads", () => {
    expect(byId["stat-requests"]).toMatchObject({ label: "Requests (last 6 hours)", value: "1,000" });
    expect(byId["stat-rps"]).toMatchObject({ label: "Requests/s (last 1 min)", value: "2/s" });
    expect(byId["stat-peak"]).toMatchObject({ label: "Peak 10 s rate (last 6 hours)", value: "2485/s" });
    expect(byId["stat-p95"]).toMatchObject({ label: "Latency p95 (last 5 min)", value: "473 ms" });
  });

  it("counts the cache and errors over all requests, the cacheable-only ratio apart", () => {
    expect(byId["stat-cache"]!.value).toBe("6.0%");
    expect(byId["stat-cache-cacheable"]!.value).toBe("93.8%");
    expect(byId["stat-errors-5xx"]!.value).toBe("1.00%");
    expect(byId["stat-errors-4xx"]!.value).toBe("3.00%");
  });

  it("shows a dash, not 0 %, for a window without requests", () => {
    const idle = summaryTiles(
      {
        ...summary,
        range: { ...totals(T0 - 900_000, T0, 0), requests4xx: 0, requests5xx: 0, cacheHits: 0, cacheMisses: 0, cacheBypass: 0 },
      },
      "15m",
    );
    expect(idle.find((t) => t.testId === "stat-cache")!.value).toBe("—");
    expect(idle.find((t) => t.testId === "stat-errors-5xx")!.value).toBe("—");
    expect(idle.find((t) => t.testId === "stat-requests")!.value).toBe("0");
  });
});
