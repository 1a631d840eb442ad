// Without NOTIFY (CONFIG_SYNC=poll: no LISTEN session), a batch queued on one instance still reaches
// the idle workers of the others within a heartbeat: the heartbeat says whether jobs wait. Here the
// only worker's poll back-off (BATCH_POLL_MAX_MS 60 s, polls doubling from 50 ms) has its next poll
// more than 10 s away when the batch is created, and it must still be answered within a few seconds.
import OpenAI from "openai";
import { afterAll, beforeAll, it } from "vitest";
import { GatewayFixture, eventually, unique } from "../helpers/gateway-fixture";
import { chatLines, submitChatBatch } from "../helpers/batch-files";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import type { ServerProcess } from "../helpers/server-process";

const HEARTBEAT_MS = 1_000;
let scratch: ScratchDatabase;
let fixture: GatewayFixture;
let front: ServerProcess;
let key: string;
let workerStartedAt: number;
const model = unique("sim");

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_batch_poll_${Date.now()}_${process.pid}`, { migrate: true });
  fixture = new GatewayFixture(scratch.url);
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator"),
    deployments: [{ modelName: model, upstreamModel: "sim" }],
  });
  key = (await fixture.addKey()).key;
  const env = { CONFIG_SYNC: "poll", HEARTBEAT_MS: String(HEARTBEAT_MS) };
  await fixture.startServer({ env: { ...env, BATCH_POLL_MAX_MS: "60000" } });
  workerStartedAt = Date.now();
  front = await fixture.startServer({ env: { ...env, WORKER_ENABLED: "false" } });
});

afterAll(async () => {
  await fixture?.close();
  await scratch?.drop();
});

it("wakes an idle worker on another instance at its next heartbeat when nothing is notified", async () => {
  // Polls at 0.05, 0.15, 0.35 … 12.75 s, then the next at 25.55 s: at 13 s the worker sleeps for 12 s more.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 13_000 - (Date.now() - workerStartedAt))));
  const client = new OpenAI({ apiKey: key, baseURL: `${front.url}/v1`, maxRetries: 0 });
  const batch = await submitChatBatch(client, chatLines(5, model));
  const tookMs = await eventually(async () => (await client.batches.retrieve(batch.id)).status === "completed", 8_000, 100);
  console.log(
    `[figure] batch poll wake: answered on the other instance ${tookMs} ms after batches.create (heartbeat ${HEARTBEAT_MS} ms)`,
  );
}, 60_000);
