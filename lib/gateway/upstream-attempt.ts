// One completion request's upstream attempts and its client. An attempt is its own cancellation
// (lib/providers/cancellation.ts); its total-timeout timer is armed only when a provider listens
// (the simulator at zero latency never does).
import type { FastifyReply } from "fastify";
import { Cancellation } from "../providers/cancellation";
import { type UpstreamCall, UpstreamFailure } from "../providers/types";

/** Why an attempt ends when its client has hung up. */
export const clientWentAway = () => new UpstreamFailure("timeout_total", "client went away");

/** Whether the client is still waiting; its leaving cancels the attempt in progress. */
export class ClientLink {
  gone = false;
  current: UpstreamAttempt | null = null;

  constructor(reply: FastifyReply) {
    const response = reply.raw;
    response.on("close", () => {
      if (response.writableFinished) return;
      this.gone = true;
      this.current?.cancel(clientWentAway());
    });
  }

  attempt(body: Record<string, unknown>, totalMs: number): UpstreamAttempt {
    return (this.current = new UpstreamAttempt(body, totalMs, this));
  }
}

/** One call to one deployment, ended by the provider's total timeout or the client leaving. */
export class UpstreamAttempt extends Cancellation implements UpstreamCall {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = performance.now();

  constructor(
    readonly body: Record<string, unknown>,
    private readonly totalMs: number,
    private readonly client: ClientLink,
  ) {
    super();
  }

  get signal(): this {
    return this;
  }

  protected override watched(): void {
    if (this.client.gone) return this.cancel(clientWentAway());
    // Whole milliseconds, so that attempts share Node's timer list for this duration.
    const remainingMs = Math.max(1, Math.ceil(this.totalMs - (performance.now() - this.startedAt)));
    this.timer = setTimeout(() => this.cancel(new UpstreamFailure("timeout_total", `no complete answer within ${this.totalMs} ms`)), remainingMs);
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.client.current === this) this.client.current = null;
  }
}
