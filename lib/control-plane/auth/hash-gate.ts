// Bounds the work sign-ins can put on a process that also serves the data plane: at most
// `concurrency` checks run at once (an Argon2 hash holds a libuv thread and ~19 MiB for tens of
// ms, and the throttle's statements a pooled connection), at most `maxQueued` wait, and anything
// beyond is refused at once rather than queued without bound.
export class HashGateFull extends Error {
  override name = "HashGateFull";
}

export interface HashGateOptions {
  /** Hashes run at the same time. */
  concurrency: number;
  /** Hashes waiting for a turn; one more is refused with HashGateFull. */
  maxQueued: number;
}

export class HashGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** The most hashes that ever ran at once in this gate (read by tests and diagnostics). */
  peakActive = 0;
  /** Hashes refused because the queue was full. */
  refused = 0;

  constructor(private readonly options: HashGateOptions) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.options.concurrency) {
      if (this.waiting.length >= this.options.maxQueued) {
        this.refused++;
        throw new HashGateFull("too many sign-ins are being checked right now");
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    this.peakActive = Math.max(this.peakActive, this.active);
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line, so `active` never dips while others wait.
      if (next) next();
      else this.active--;
    }
  }
}
