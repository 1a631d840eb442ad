// One completion request's upstream attempts and the clients waiting for them. An attempt is its
// own cancellation (lib/data-plane/providers/cancellation.ts); its total-timeout timer is armed only when a
// provider listens (the simulator at zero latency never does).
import type { FastifyReply } from "fastify";
import { Cancellation } from "../providers/cancellation";
import { type UpstreamCall, UpstreamFailure } from "../providers/types";
import { Departure, type Waiter } from "./waiters";

/** Why an attempt ends when nobody waits for its answer any more: not the upstream's failure. */
export const clientGone = () => new UpstreamFailure("client_gone", "the client went away");

/** One client's connection: gone when it closes before its response was finished. */
export class ClientLink extends Departure {
  constructor(reply: FastifyReply) {
    super();
    const response = reply.raw;
    // It may have left while the request was admitted (the rate limiter can wait on the database).
    if (response.destroyed) {
      this.gone = true;
      return;
    }
    response.on("close", () => {
      if (!response.writableFinished) this.leave();
    });
  }
}

/** The attempts made for one upstream answer; the one in progress is cancelled when its waiters have gone. */
export class UpstreamRequest {
  current: UpstreamAttempt | null = null;
  private listening = false;

  constructor(private readonly waiter: Waiter) {}

  get gone(): boolean {
    return this.waiter.gone;
  }

  /** From the first attempt a provider can stop on: before that, the waiters' leaving changes nothing. */
  listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.waiter.onGone(() => this.current?.cancel(clientGone()));
  }

  attempt(body: Record<string, unknown>, totalMs: number): UpstreamAttempt {
    return (this.current = new UpstreamAttempt(body, totalMs, this));
  }
}

/** One call to one deployment, ended by the provider's total timeout or by its waiters leaving. */
export class UpstreamAttempt extends Cancellation implements UpstreamCall {
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = performance.now();

  constructor(
    readonly body: Record<string, unknown>,
    private readonly totalMs: number,
    private readonly request: UpstreamRequest,
  ) {
    super();
  }

  get signal(): this {
    return this;
  }

  protected override watched(): void {
    if (this.request.gone) return this.cancel(clientGone());
    this.request.listen();
    // Whole milliseconds, so that attempts share Node's timer list for this duration.
    const remainingMs = Math.max(1, Math.ceil(this.totalMs - (performance.now() - this.startedAt)));
    this.timer = setTimeout(
      () => this.cancel(new UpstreamFailure("timeout_total", `no complete answer within ${this.totalMs} ms`)),
      remainingMs,
    );
  }

  /** Ended because nobody waited any more: its duration says nothing about the upstream. */
  get abandoned(): boolean {
    return this.reason?.reason === "client_gone";
  }

  done(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.request.current === this) this.request.current = null;
  }
}
