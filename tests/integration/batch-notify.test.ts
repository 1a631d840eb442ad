// A batch queued on one instance wakes the idle workers of the others by NOTIFY: here the only worker
// has polled an empty queue long enough that its next poll is 20+ s away (BATCH_POLL_MAX_MS 60 s, polls
// doubling from 50 ms), and the batch must still be answered within seconds.
import { afterAll, beforeAll, it } from "vitest";
import { IdleBatchWorker } from "../helpers/idle-batch-worker";

let instances: IdleBatchWorker;

beforeAll(async () => {
  instances = await IdleBatchWorker.start("batch_notify", {}, { BATCH_POLL_MAX_MS: "60000" });
});

afterAll(async () => {
  await instances?.close();
});

it("wakes an idle worker on another instance at once", async () => {
  // Polls at 0.05, 0.15, 0.35 … 25.55 s, then the next at 51.15 s: at 30 s the worker sleeps for 20 s more.
  const tookMs = await instances.answerAfterIdle(30_000, 8_000);
  console.log(`[figure] batch notify: answered on the other instance ${tookMs} ms after batches.create`);
}, 60_000);
