// Without NOTIFY (CONFIG_SYNC=poll: no LISTEN session), a batch queued on one instance still reaches
// the idle workers of the others within a heartbeat: the heartbeat says whether jobs wait. Here the
// only worker's poll back-off (BATCH_POLL_MAX_MS 60 s, polls doubling from 50 ms) has its next poll
// more than 10 s away when the batch is created, and it must still be answered within a few seconds.
import { afterAll, beforeAll, it } from "vitest";
import { IdleBatchWorker } from "../helpers/idle-batch-worker";

const HEARTBEAT_MS = 1_000;
let instances: IdleBatchWorker;

beforeAll(async () => {
  const env = { CONFIG_SYNC: "poll", HEARTBEAT_MS: String(HEARTBEAT_MS) };
  instances = await IdleBatchWorker.start("batch_poll", env, { BATCH_POLL_MAX_MS: "60000" });
});

afterAll(async () => {
  await instances?.close();
});

it("wakes an idle worker on another instance at its next heartbeat when nothing is notified", async () => {
  // Polls at 0.05, 0.15, 0.35 … 12.75 s, then the next at 25.55 s: at 13 s the worker sleeps for 12 s more.
  const tookMs = await instances.answerAfterIdle(13_000, 8_000);
  console.log(
    `[figure] batch poll wake: answered on the other instance ${tookMs} ms after batches.create (heartbeat ${HEARTBEAT_MS} ms)`,
  );
}, 60_000);
