// How a provider learns that an upstream attempt was cancelled (its total timeout passed, or the
// client went away). It has the EventEmitter shape that undici accepts for its `signal` option
// (`on`/`once`/`removeListener` for "abort", plus `aborted` and `reason`). An AbortController per
// attempt, with undici's EventTarget listener on it, cost a tenth of the gateway's CPU and was
// most of what each request left behind for the old generation (measured with a sampling heap
// profile that keeps only objects which survived a scavenge).
import { UpstreamFailure, type CancelSignal } from "./types";

type Listener = () => void;

export class Cancellation implements CancelSignal {
  aborted = false;
  reason: UpstreamFailure | undefined;
  private listeners: Listener[] | null = null;

  cancel(reason: UpstreamFailure): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners) for (const listener of listeners) listener();
  }

  on(_event: "abort", listener: Listener): this {
    if (this.aborted) return this;
    const first = this.listeners === null;
    (this.listeners ??= []).push(listener);
    if (first) this.watched();
    return this;
  }

  /** Listeners run at most once: cancellation happens once. */
  once(event: "abort", listener: Listener): this {
    return this.on(event, listener);
  }

  removeListener(_event: "abort", listener: Listener): this {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.listeners!.splice(at, 1);
    return this;
  }

  /** Called when the first listener arrives: a subclass arms its timeout only for attempts someone can stop. */
  protected watched(): void {}
}

/** Waits `ms`, or rejects with the cancellation's reason as soon as it is cancelled. */
export function sleepUnlessCancelled(ms: number, signal: CancelSignal): Promise<void> {
  const cancelled = () => signal.reason ?? new UpstreamFailure("cancelled", "upstream call was cancelled");
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal.removeListener("abort", onAbort);
      resolve();
    }, ms);
    signal.once("abort", onAbort);
  });
}
