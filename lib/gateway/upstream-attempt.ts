// One completion request's upstream attempts and its client. An attempt's abort signal is made
// only when the provider asks for it (the simulator at zero latency never does): AbortController
// and its listeners were a tenth of the gateway's CPU per request when made eagerly.
import type { FastifyReply } from "fastify";
import { type UpstreamCall, UpstreamFailure } from "../providers/types";

/** Whether the client is still waiting; its leaving aborts the attempt in progress. */
export class ClientLink {
  gone = false;
  current: UpstreamAttempt | null = null;

  constructor(reply: FastifyReply) {
    const response = reply.raw;
    response.on("close", () => {
      if (response.writableFinished) return;
      this.gone = true;
      this.current?.abort("client went away");
    });
  }

  attempt(body: Record<string, unknown>, totalMs: number): UpstreamAttempt {
    return (this.current = new UpstreamAttempt(body, totalMs, this));
  }
}

/** One call to one deployment, ended by the provider's total timeout or the client leaving. */
export class UpstreamAttempt implements UpstreamCall {
  private controller: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = performance.now();

  constructor(
    readonly body: Record<string, unknown>,
    private readonly totalMs: number,
    private readonly client: ClientLink,
  ) {}

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    this.controller = new AbortController();
    if (this.client.gone) this.abort("client went away");
    else {
      const remainingMs = Math.max(0, this.totalMs - (performance.now() - this.startedAt));
      this.timer = setTimeout(() => this.abort(`no complete answer within ${this.totalMs} ms`), remainingMs);
    }
    return this.controller.signal;
  }

  /** Aborts the upstream call if the provider is listening (one that never asked cannot be stopped). */
  abort(why: string): void {
    this.controller?.abort(new UpstreamFailure("timeout_total", why));
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.client.current === this) this.client.current = null;
  }
}
