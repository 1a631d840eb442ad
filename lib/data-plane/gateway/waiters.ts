// Who is waiting for an upstream answer. One client normally; with the response cache's single
// flight, every client that asked the same question at once. The answer is still wanted while any
// of them waits, so the upstream call is cancelled only when the last has gone.

/** Someone waiting for an answer, who may leave first. */
export interface Waiter {
  readonly gone: boolean;
  /** `listener` runs once, when the waiter leaves (never if it already has). */
  onGone(listener: () => void): void;
}

/** Listeners of one Waiter, allocated only when someone listens. */
export class Departure implements Waiter {
  gone = false;
  private listeners: Array<() => void> | null = null;

  onGone(listener: () => void): void {
    if (!this.gone) (this.listeners ??= []).push(listener);
  }

  protected leave(): void {
    if (this.gone) return;
    this.gone = true;
    const listeners = this.listeners;
    this.listeners = null;
    if (listeners) for (const listener of listeners) listener();
  }
}

/** Waiters that share one answer: gone when every one of them has gone. */
export class WaiterGroup extends Departure {
  private waiting = 0;

  constructor(first: Waiter) {
    super();
    this.add(first);
  }

  /** Adds a waiter; false (and nothing added) once the group has gone, as its answer is being cancelled. */
  add(waiter: Waiter): boolean {
    if (this.gone) return false;
    if (waiter.gone) {
      if (this.waiting === 0) this.leave();
      return true;
    }
    this.waiting++;
    waiter.onGone(() => {
      if (--this.waiting === 0) this.leave();
    });
    return true;
  }
}
