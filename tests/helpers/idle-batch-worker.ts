// Two instances on a scratch database for the batch wake-up tests: one whose worker sits idle, its
// poll backing off, and a front instance without a worker where the batch is created with the
// openai SDK. How long the idle worker takes to answer it says what woke it.
import OpenAI from "openai";
import { chatLines, submitChatBatch } from "./batch-files";
import { GatewayFixture, eventually, unique } from "./gateway-fixture";
import { createScratchDatabase, type ScratchDatabase } from "./postgres";
import type { ServerProcess } from "./server-process";

export class IdleBatchWorker {
  private constructor(
    private readonly scratch: ScratchDatabase,
    private readonly fixture: GatewayFixture,
    private readonly client: OpenAI,
    private readonly model: string,
    private readonly workerStartedAt: number,
  ) {}

  /** Starts the worker instance, then the front; `env` goes to both, `workerEnv` to the worker only. */
  static async start(name: string, env: Record<string, string>, workerEnv: Record<string, string>): Promise<IdleBatchWorker> {
    const scratch = await createScratchDatabase(`agenticorp_${name}_${Date.now()}_${process.pid}`, { migrate: true });
    const fixture = new GatewayFixture(scratch.url);
    const model = unique("sim");
    await fixture.addProvider({
      kind: "simulator",
      name: unique("simulator"),
      deployments: [{ modelName: model, upstreamModel: "sim" }],
    });
    const { key } = await fixture.addKey();
    await fixture.startServer({ env: { ...env, ...workerEnv } });
    const workerStartedAt = Date.now();
    const front: ServerProcess = await fixture.startServer({ env: { ...env, WORKER_ENABLED: "false" } });
    const client = new OpenAI({ apiKey: key, baseURL: `${front.url}/v1`, maxRetries: 0 });
    return new IdleBatchWorker(scratch, fixture, client, model, workerStartedAt);
  }

  /**
   * Waits until the worker has been up `idleMs`, creates a five-line batch on the front and resolves
   * to the milliseconds until it completed; fails after `withinMs`.
   */
  async answerAfterIdle(idleMs: number, withinMs: number): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, idleMs - (Date.now() - this.workerStartedAt))));
    const batch = await submitChatBatch(this.client, chatLines(5, this.model));
    return eventually(async () => (await this.client.batches.retrieve(batch.id)).status === "completed", withinMs, 100);
  }

  async close(): Promise<void> {
    await this.fixture.close();
    await this.scratch.drop();
  }
}
