// A per-key allowance shared by the fleet without a database round trip per request: the design
// behind the RPM limit, the tokens-per-minute limit and the spend budgets.
//
// Each key has a counter row per window (in database time) holding what all instances have claimed.
// An instance claims a batch with one atomic statement that never grants past the limit, then
// admits requests from what it holds, synchronously. A batch is a fleet-wide share of what is left
// (what is left ÷ twice the live instances, at least one unit, capped by `maxBatch`): even when every
// instance claims at once they take at most half of it, and what is stranded on instances whose
// traffic stopped stays a small share of the limit however many instances there are. (A fixed
// eighth of what is left let the first eight of forty instances take a whole window.)
//
// Two ways to spend: `take` at admission (RPM: one permit per request), or `consume` afterwards
// when the amount is known only at the end (tokens, cost). What an instance holds may then go
// below zero; the next claim asks for that debt on top of its batch. Admission needs a positive
// balance, so once the fleet's counter is used up an instance admits nothing more, and what it may
// have let through beyond the limit is what was in flight when its balance ran out — one request
// per instance at a time (see docs/operations.md, "Usage, spend and budgets").
//
// If the database is unreachable, each instance falls back to an equal share of the limit
// (limit ÷ live instances) until the window it guessed ends, so limits hold roughly while traffic flows.
/** What one claim asks for: a fleet-wide share of what is left in the window. */
export function claimSize(remaining: number, liveInstances: number, maxBatch: number): number {
  return Math.max(1, Math.min(maxBatch, Math.floor(remaining / (2 * Math.max(1, liveInstances)))));
}

/** One claim's outcome in database time. */
export interface Claim {
  granted: number;
  /** Fleet-wide total claimed in the window after this claim. */
  used: number;
  windowStartMs: number;
  windowEndMs: number;
  nowMs: number;
}

/** Where the fleet's counters live: claims up to `want` of `limit` for a key in the current window; null when none is left. */
export type ClaimFn = (keyId: string, want: number, limit: number) => Promise<Claim | null>;

export interface AllowanceOptions {
  claim: ClaimFn;
  /** Live instances in the fleet, for the fallback share while the database is away. */
  instanceCount: () => number;
  /** The largest batch one claim asks for (beyond any debt). */
  maxBatch: number;
  /** While the database is away: how long a guessed window lasts before this instance tries again. */
  fallbackWindowMs: number;
  onDatabaseError?: (error: Error) => void;
  /** Local clock (ms); Date.now unless a test injects one. */
  now?: () => number;
}

interface KeyWindow {
  endMs: number;
  limit: number;
  /** What this instance may still spend; below zero after consuming more than it held. */
  held: number;
  /** Fleet-wide units left after the last claim. */
  remaining: number;
  /** Nothing more to claim in this window (the fleet used it, or the fallback share is given). */
  exhausted: boolean;
  claim?: Promise<void>;
}

export interface Admission {
  allowed: boolean;
  /** Seconds until the window ends, for Retry-After. */
  retryAfterSeconds: number;
}

export class FleetAllowance {
  private readonly windows = new Map<string, KeyWindow>();
  /** Database clock minus local clock, learned from each claim. */
  private clockOffsetMs = 0;
  private readonly now: () => number;

  constructor(private readonly options: AllowanceOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether a request may go ahead: this instance holds a positive balance (synchronous), or a
   * claim gives it one. Allowed requests spend `take` at once.
   */
  admit(keyId: string, limit: number, take = 0): Admission | Promise<Admission> {
    const now = this.now() + this.clockOffsetMs;
    let window = this.windows.get(keyId);
    // endMs 0: the window's bounds are not known yet (its first claim is under way).
    const ended = window !== undefined && window.endMs !== 0 && window.endMs <= now;
    if (window && !window.claim && (ended || window.limit !== limit)) {
      // A new window, or a changed limit: start afresh (debt carries into a changed limit's window only).
      const carried = ended ? 0 : Math.min(0, window.held);
      window = { endMs: ended ? 0 : window.endMs, limit, held: carried, remaining: limit, exhausted: false };
      this.windows.set(keyId, window);
    }
    if (!window) {
      window = { endMs: 0, limit, held: 0, remaining: limit, exhausted: false };
      this.windows.set(keyId, window);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((window.endMs - now) / 1000));
    if (window.held > 0) {
      window.held -= take;
      return { allowed: true, retryAfterSeconds };
    }
    if (window.exhausted) return { allowed: false, retryAfterSeconds };
    return this.claimFor(keyId, window).then(() => this.admitAfterClaim(keyId, limit, take, window));
  }

  /** Spends `amount` of what this instance holds for the key (known only once the request ended). */
  consume(keyId: string, amount: number): void {
    const window = this.windows.get(keyId);
    if (window && window.endMs > this.now() + this.clockOffsetMs) window.held -= amount;
  }

  /** Drops state for windows that ended (called periodically). */
  prune(): void {
    const now = this.now() + this.clockOffsetMs;
    for (const [key, window] of this.windows) if (window.endMs <= now && !window.claim) this.windows.delete(key);
  }

  private admitAfterClaim(keyId: string, limit: number, take: number, window: KeyWindow): Admission | Promise<Admission> {
    // The window a claim filled may already be the one in force; or time moved on: decide afresh.
    if (this.windows.get(keyId) !== window) return this.admit(keyId, limit, take);
    const retryAfterSeconds = Math.max(1, Math.ceil((window.endMs - (this.now() + this.clockOffsetMs)) / 1000));
    if (window.held > 0) {
      window.held -= take;
      return { allowed: true, retryAfterSeconds };
    }
    if (window.exhausted) return { allowed: false, retryAfterSeconds };
    return this.admit(keyId, limit, take);
  }

  private claimFor(keyId: string, window: KeyWindow): Promise<void> {
    window.claim ??= this.runClaim(keyId, window).finally(() => {
      window.claim = undefined;
    });
    return window.claim;
  }

  private async runClaim(keyId: string, window: KeyWindow): Promise<void> {
    const debt = Math.ceil(Math.max(0, -window.held));
    const want = claimSize(window.remaining, this.options.instanceCount(), this.options.maxBatch) + debt;
    try {
      const claim = await this.options.claim(keyId, want, window.limit);
      if (!claim) {
        window.exhausted = true;
        return;
      }
      this.clockOffsetMs = claim.nowMs - this.now();
      window.endMs = claim.windowEndMs;
      window.held += claim.granted;
      window.remaining = window.limit - claim.used;
      if (claim.granted === 0 || window.remaining <= 0) window.exhausted = true;
    } catch (error) {
      this.options.onDatabaseError?.(error as Error);
      // Local fallback: this instance's equal share of the window, then closed until the guessed window ends.
      window.held += Math.max(1, Math.floor(window.limit / Math.max(1, this.options.instanceCount())));
      if (window.endMs <= this.now() + this.clockOffsetMs)
        window.endMs = this.now() + this.clockOffsetMs + this.options.fallbackWindowMs;
      window.exhausted = true;
    }
  }
}
