// A batch queued on one instance wakes the idle workers of the others by NOTIFY: here the only worker
// has polled an empty queue long enough that its next poll is 20+ s away (BATCH_POLL_MAX_MS 60 s, polls
// doubling from 50 ms), and the batch must still be answered within seconds.
import OpenAI from "openai";
import { afterAll, beforeAll, it } from "vitest";
import { GatewayFixture, eventually, unique } from "../helpers/gateway-fixture";
import { chatLines, submitChatBatch } from "../helpers/batch-files";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import type { ServerProcess } from "../helpers/server-process";

let scratch: ScratchDatabase;
let fixture: GatewayFixture;
let front: ServerProcess;
let key: string;
let workerStartedAt: number;
const model = unique("sim");

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_batch_notify_${Date.now()}_${process.pid}`, { migrate: true });
  fixture = new GatewayFixture(scratch.url);
  await fixture.addProvider({
    kind: "simulator",
    name: unique("simulator"),
    deployments: [{ modelName: model, upstreamModel: "sim" }],
  });
  key = (await fixture.addKey()).key;
  await fixture.startServer({ env: { BATCH_POLL_MAX_MS: "60000" } });
  workerStartedAt = Date.now();
  front = await fixture.startServer({ env: { WORKER_ENABLED: "false" } });
});

afterAll(async () => {
  await fixture?.close();
  await scratch?.drop();
});

it("wakes an idle worker on another instance at once", async () => {
  // Polls at 0.05, 0.15, 0.35 … 25.55 s, then the next at 51.15 s: at 30 s the worker sleeps for 20 s more.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - workerStartedAt))));
  const client = new OpenAI({ apiKey: key, baseURL: `${front.url}/v1`, maxRetries: 0 });
  const batch = await submitChatBatch(client, chatLines(5, model));
  const tookMs = await eventually(async () => (await client.batches.retrieve(batch.id)).status === "completed", 8_000, 100);
  console.log(`[figure] batch notify: answered on the other instance ${tookMs} ms after batches.create`);
}, 60_000);
