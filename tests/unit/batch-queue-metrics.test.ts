// The batch queue gauges: fleet-wide numbers only the leader exposes. A reading shows as
// scope="fleet" series; the end of leadership, or a reading older than its limit, removes them (no
// zero, no stale count).
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { reportFleetQueue } from "../../lib/platform/metrics/batch";
import { registry } from "../../lib/platform/metrics/registry";
import { registerQueueSampler } from "../../lib/control-plane/scaling/queue-sampler";
import type { LeaderJob } from "../../lib/platform/coordination/leader";

const QUEUE_SERIES = [
  "agenticorp_batch_jobs_queued",
  "agenticorp_batch_jobs_running",
  "agenticorp_batch_oldest_queued_age_seconds",
];

async function samples(name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  return (await registry.getSingleMetric(name)!.get()).values.map((v) => ({
    labels: v.labels as Record<string, string | number>,
    value: v.value,
  }));
}

afterEach(() => reportFleetQueue(null));

describe("agenticorp_batch_* queue gauges", () => {
  it('expose the leader\'s reading as scope="fleet"', async () => {
    reportFleetQueue({ queued: 20_000, running: 64, oldestQueuedAgeSeconds: 12.5 });
    expect(await samples("agenticorp_batch_jobs_queued")).toEqual([{ labels: { scope: "fleet" }, value: 20_000 }]);
    expect(await samples("agenticorp_batch_jobs_running")).toEqual([{ labels: { scope: "fleet" }, value: 64 }]);
    expect(await samples("agenticorp_batch_oldest_queued_age_seconds")).toEqual([{ labels: { scope: "fleet" }, value: 12.5 }]);
  });

  it("leave the oldest age out while nothing is queued (not a fake 0 s)", async () => {
    reportFleetQueue({ queued: 0, running: 3, oldestQueuedAgeSeconds: null });
    expect(await samples("agenticorp_batch_jobs_queued")).toEqual([{ labels: { scope: "fleet" }, value: 0 }]);
    expect(await samples("agenticorp_batch_oldest_queued_age_seconds")).toEqual([]);
  });

  it("have no series at all off the leader, and none once the reading is older than its limit", async () => {
    for (const name of QUEUE_SERIES) expect(await samples(name), name).toEqual([]);
    reportFleetQueue({ queued: 5, running: 0, oldestQueuedAgeSeconds: 1 }, 20);
    expect(await samples("agenticorp_batch_jobs_queued")).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    for (const name of QUEUE_SERIES) expect(await samples(name), name).toEqual([]);
  });
});

describe("the leader's queue sampler", () => {
  it("reports each reading while leading, goes quiet when leadership ends, and survives a failed read", async () => {
    // A stand-in for the election: it hands over the job, and the test runs it as a term would.
    let job: LeaderJob | undefined;
    let reads = 0;
    let fail = false;
    registerQueueSampler({
      leader: { runJob: (_name, _interval, fn) => void (job = fn) },
      logger: pino({ level: "silent" }),
      readQueue: async () => {
        reads++;
        if (fail) throw new Error("database unreachable");
        return { queued: 100 * reads, running: 1, oldestQueuedAgeSeconds: 2 };
      },
    });
    const term = new AbortController();
    await job!(1n, term.signal);
    expect(await samples("agenticorp_batch_jobs_queued")).toEqual([{ labels: { scope: "fleet" }, value: 100 }]);
    fail = true;
    await expect(job!(1n, term.signal)).resolves.toBeUndefined();
    // The last good reading stands until it is three intervals old.
    expect(await samples("agenticorp_batch_jobs_queued")).toEqual([{ labels: { scope: "fleet" }, value: 100 }]);
    term.abort();
    expect(await samples("agenticorp_batch_jobs_queued")).toEqual([]);
    fail = false;
    await job!(2n, new AbortController().signal);
    expect(await samples("agenticorp_batch_jobs_queued")).toEqual([{ labels: { scope: "fleet" }, value: 300 }]);
  });
});
