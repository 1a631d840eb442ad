// The Batch API on a fleet: one batch worked by three real instances through the shared PostgreSQL
// queue, one of them killed with SIGKILL midway. Every custom_id must be answered exactly once (the
// killed instance's jobs are claimed again after their lease; fencing keeps any second result out),
// and the batch must complete. Prints the batch throughput per instance.
import { expect, it } from "vitest";
import { describeFleetBatch, runFleetBatch } from "../helpers/batch-fleet";

// 20,000 lines finish well within 90 s on this machine (see docs/performance.md "Batch"); BATCH_FLEET_LINES overrides.
const LINES = Number(process.env.BATCH_FLEET_LINES ?? 20_000);

it(`answers every one of ${LINES} custom_ids exactly once across three instances, one killed with SIGKILL midway`, async () => {
  const report = await runFleetBatch({
    lines: LINES,
    instances: 3,
    killAt: 0.3,
    concurrency: 32,
    timeoutMs: 170_000,
    log: (m) => console.log(m),
  });
  for (const line of describeFleetBatch(report)) console.log(line);

  expect(report.killed).toBeDefined();
  expect(report.batch.status).toBe("completed");
  expect(report.batch.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 });
  expect(report.duplicates).toEqual([]);
  expect(report.missing).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.outputLines).toBe(LINES);
  expect(report.errorLines).toBe(0);
  // The kill hit jobs in hand, and others took them over.
  expect(report.reclaimed).toBeGreaterThan(0);
  const victim = report.shares.find((s) => s.killed)!;
  const survivors = report.shares.filter((s) => !s.killed);
  expect(victim.answered).toBeGreaterThan(0);
  expect(survivors).toHaveLength(2);
  expect(survivors.every((s) => s.answered > 0)).toBe(true);
  expect(report.shares.reduce((sum, s) => sum + s.answered, 0)).toBe(LINES);
}, 240_000);
