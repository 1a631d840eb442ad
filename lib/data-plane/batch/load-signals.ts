// What batch work yields to, measured in this instance's memory: the latency of its live (interactive)
// completions and the upstreams' 429s. The worker reads these before every claim; nothing here
// touches the database.

/** Latency samples kept (the most recent ones within the window). */
const MAX_SAMPLES = 2_048;

export class LoadSignals {
  private readonly latencies = new Float64Array(MAX_SAMPLES);
  private readonly latencyAt = new Float64Array(MAX_SAMPLES);
  private next = 0;
  private count = 0;
  private cachedP95: { at: number; value: number | null } = { at: -Infinity, value: null };
  private last429At = -Infinity;
  private upstream429s = 0;

  constructor(
    private readonly windowMs = 30_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A live completion finished after `ms` (batch requests are not counted: they must not slow themselves). */
  recordLiveLatency(ms: number): void {
    this.latencies[this.next] = ms;
    this.latencyAt[this.next] = this.now();
    this.next = (this.next + 1) % MAX_SAMPLES;
    this.count = Math.min(this.count + 1, MAX_SAMPLES);
  }

  /** An upstream answered 429 (for a live or a batch request). */
  recordUpstream429(): void {
    this.last429At = this.now();
    this.upstream429s++;
  }

  /** 429s seen since the process started. */
  get upstream429Count(): number {
    return this.upstream429s;
  }

  /** Milliseconds since the last upstream 429 (Infinity if none). */
  sinceLast429Ms(): number {
    return this.now() - this.last429At;
  }

  /** p95 of live latencies within the window; null with fewer than 20 samples. Recomputed at most once a second. */
  liveP95Ms(): number | null {
    const now = this.now();
    if (now - this.cachedP95.at < 1_000) return this.cachedP95.value;
    const recent: number[] = [];
    for (let i = 0; i < this.count; i++) if (now - this.latencyAt[i]! <= this.windowMs) recent.push(this.latencies[i]!);
    let value: number | null = null;
    if (recent.length >= 20) {
      recent.sort((a, b) => a - b);
      value = recent[Math.min(recent.length - 1, Math.ceil(recent.length * 0.95) - 1)]!;
    }
    this.cachedP95 = { at: now, value };
    return value;
  }
}
