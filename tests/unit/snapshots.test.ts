// Snapshots read from the process registry (the same numbers /metrics serves), their deltas, their
// bucket, and the writer's bounded, ordered retry buffer.
import pino from "pino";
import client from "prom-client";
import { describe, expect, it } from "vitest";
import { dbQueryDuration } from "../../lib/platform/metrics/db";
import { cacheRequests, gatewayDuration, gatewayRequests } from "../../lib/platform/metrics/gateway";
import { registry } from "../../lib/platform/metrics/registry";
import { snapshotsDropped } from "../../lib/platform/metrics/snapshots";
import { DB_BOUNDS, LATENCY_BOUNDS } from "../../lib/platform/metrics-history/layout";
import {
  diffReadings,
  mergedHistogram,
  readRegistry,
  snapshotBucket,
  type Snapshot,
} from "../../lib/platform/metrics-history/snapshot";
import { SnapshotWriter } from "../../lib/platform/metrics-history/writer";
import "../../lib/platform/metrics/http";
import "../../lib/platform/metrics/process";

const quiet = pino({ level: "silent" });

describe("readRegistry", () => {
  it("reads the registry's histograms in the stored layouts", async () => {
    gatewayDuration.observe({ model: "layout", stream: "false" }, 0.03);
    dbQueryDuration.observe(0.002);
    const latency = await mergedHistogram(registry, "agenticorp_gateway_request_duration_seconds", LATENCY_BOUNDS);
    expect(latency.buckets).toHaveLength(LATENCY_BOUNDS.length + 1);
    const db = await mergedHistogram(registry, "agenticorp_db_query_duration_seconds", DB_BOUNDS);
    expect(db.buckets).toHaveLength(DB_BOUNDS.length + 1);
  });

  it("refuses a histogram whose buckets differ from the stored layout", async () => {
    const other = new client.Registry();
    const histogram = new client.Histogram({ name: "x_seconds", help: "x", buckets: [0.1, 1], registers: [other] });
    histogram.observe(0.5);
    await expect(mergedHistogram(other, "x_seconds", [0.1, 0.5, 1])).rejects.toThrow(/buckets/);
    await expect(mergedHistogram(other, "x_seconds", [0.2, 1])).rejects.toThrow(/le=0.1/);
  });

  it("turns two readings into what was counted between them, merged over labels", async () => {
    const cpuBefore = process.cpuUsage();
    const first = await readRegistry(registry, 1_000);
    gatewayRequests.inc({ endpoint: "chat", model: "a", provider: "p", status: "200", stream: "false" }, 3);
    gatewayRequests.inc({ endpoint: "responses", model: "b", provider: "p", status: "200", stream: "true" }, 2);
    gatewayRequests.inc({ endpoint: "chat", model: "a", provider: "none", status: "502", stream: "false" }, 4);
    gatewayRequests.inc({ endpoint: "embeddings", model: "unknown", provider: "none", status: "404", stream: "false" });
    cacheRequests.inc({ result: "hit" }, 5);
    cacheRequests.inc({ result: "miss" }, 2);
    gatewayDuration.observe({ model: "a", stream: "false" }, 0.03); // (0.025, 0.05]
    gatewayDuration.observe({ model: "b", stream: "true" }, 0.7); // (0.5, 1]
    gatewayDuration.observe({ model: "b", stream: "true" }, 500); // +Inf
    const second = await readRegistry(registry, 11_000);
    const cpuBetween = process.cpuUsage(cpuBefore);
    const snapshot = diffReadings(first, second, 1_000);

    expect(snapshot.requests).toEqual([5, 0, 1, 4]);
    expect(snapshot.requestsByEndpoint).toEqual([7, 2, 0, 0, 1]);
    expect(snapshot.cache).toEqual({ hit: 5, miss: 2, bypass: 0 });
    const expected = new Array(LATENCY_BOUNDS.length + 1).fill(0);
    expected[LATENCY_BOUNDS.indexOf(0.05)] = 1;
    expected[LATENCY_BOUNDS.indexOf(1)] = 1;
    expected[LATENCY_BOUNDS.length] = 1;
    expect(snapshot.latency).toEqual(expected);
    expect(snapshot.latencySum).toBeCloseTo(500.73, 9);
    // This process's own CPU time between the two readings, which lie inside the span measured here.
    expect(snapshot.cpuSeconds).toBeGreaterThan(0);
    expect(snapshot.cpuSeconds).toBeLessThanOrEqual((cpuBetween.user + cpuBetween.system) / 1e6);
    expect(snapshot.rssBytes).toBeGreaterThan(0);
    expect(snapshot.memoryLimitBytes).toBeGreaterThan(snapshot.rssBytes);
    expect(snapshot.periodStart).toBe(1_000);
    expect(snapshot.at).toBe(11_000);
  });
});

describe("snapshotBucket", () => {
  it("files a snapshot under the 10 s bucket holding the middle of its period", () => {
    expect(snapshotBucket({ periodStart: 10_000, at: 20_000 })).toBe(10_000);
    expect(snapshotBucket({ periodStart: 19_000, at: 20_000 })).toBe(10_000);
    expect(snapshotBucket({ periodStart: 20_000, at: 21_000 })).toBe(20_000);
    expect(snapshotBucket({ periodStart: 3_500, at: 20_000 })).toBe(10_000);
    expect(snapshotBucket({ periodStart: 60_000, at: 120_000 }, 60)).toBe(60_000);
  });
});

describe("SnapshotWriter", () => {
  function writer(write: (s: Snapshot) => Promise<unknown>, bufferMax: number, ready = () => true) {
    let clock = 100_000;
    const w = new SnapshotWriter({
      registry,
      write,
      intervalMs: 1_000,
      bufferMax,
      ready,
      logger: quiet,
      now: () => (clock += 1_000),
      startedAt: 100_000,
    });
    return w;
  }
  const counted = (s: Snapshot) => s.requests.reduce((a, b) => a + b, 0);

  it("keeps failed snapshots and writes them later, oldest first, losing no count", async () => {
    const written: Snapshot[] = [];
    let failing = true;
    const w = writer(async (s) => {
      if (failing) throw new Error("database unreachable");
      written.push(s);
    }, 10);
    for (let i = 1; i <= 4; i++) {
      gatewayRequests.inc({ model: "w", provider: "p", status: "200", stream: "false" }, i);
      await w.capture();
      await w.flush();
    }
    expect(written).toHaveLength(0);
    expect(w.buffered).toHaveLength(4);
    failing = false;
    await w.flush();
    expect(w.buffered).toHaveLength(0);
    expect(written.map((s) => s.at)).toEqual([...written.map((s) => s.at)].sort((a, b) => a - b));
    // Each period starts where the previous ended; the first at the start given.
    expect(written[0]!.periodStart).toBe(100_000);
    for (let i = 1; i < written.length; i++) expect(written[i]!.periodStart).toBe(written[i - 1]!.at);
    expect(written.slice(1).map(counted)).toEqual([2, 3, 4]);
  });

  it("queues while the tables do not exist yet", async () => {
    const written: Snapshot[] = [];
    let ready = false;
    const w = writer(
      async (s) => void written.push(s),
      10,
      () => ready,
    );
    await w.capture();
    await w.flush();
    expect(written).toHaveLength(0);
    ready = true;
    await w.flush();
    expect(written).toHaveLength(1);
  });

  it("drops the oldest snapshots beyond the bound, and counts them", async () => {
    const w = writer(async () => {
      throw new Error("database unreachable");
    }, 3);
    const droppedBefore = (await snapshotsDropped.get()).values[0]?.value ?? 0;
    const taken: Snapshot[] = [];
    for (let i = 0; i < 5; i++) taken.push(await w.capture());
    expect(w.buffered).toEqual(taken.slice(2));
    expect(((await snapshotsDropped.get()).values[0]?.value ?? 0) - droppedBefore).toBe(2);
  });

  it("stop() captures what was counted since the last snapshot and writes it", async () => {
    const written: Snapshot[] = [];
    const w = writer(async (s) => void written.push(s), 10);
    await w.capture();
    await w.flush();
    gatewayRequests.inc({ model: "w", provider: "p", status: "500", stream: "false" }, 7);
    await w.stop();
    expect(written).toHaveLength(2);
    expect(written[1]!.requests[3]).toBe(7);
  });
});
