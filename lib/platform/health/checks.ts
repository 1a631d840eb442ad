// Dependency checks behind /health (readiness does not follow them). The database answer is cached for a
// moment so that probes from many balancers cost at most one query per second.
import type pg from "pg";

export interface DependencyStatus {
  status: "up" | "down";
  latency_ms: number | null;
  error?: string;
}

const DATABASE_TIMEOUT_MS = 1_000;
const CACHE_MS = 1_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function databaseCheck(getPool: () => pg.Pool | undefined): () => Promise<DependencyStatus> {
  let cached: { at: number; value: Promise<DependencyStatus> } | undefined;
  const probe = async (): Promise<DependencyStatus> => {
    const started = performance.now();
    try {
      const pool = getPool();
      if (!pool) throw new Error("not connected yet");
      await withTimeout(pool.query("SELECT 1"), DATABASE_TIMEOUT_MS, "database");
      return { status: "up", latency_ms: elapsed(started) };
    } catch (error) {
      return { status: "down", latency_ms: null, error: safeErrorMessage(error) };
    }
  };
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > CACHE_MS) cached = { at: now, value: probe() };
    return cached.value;
  };
}

export function prometheusCheck(baseUrl: string): () => Promise<DependencyStatus> {
  return async () => {
    const started = performance.now();
    try {
      const response = await fetch(new URL("/-/ready", baseUrl), { signal: AbortSignal.timeout(DATABASE_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return { status: "up", latency_ms: elapsed(started) };
    } catch (error) {
      return { status: "down", latency_ms: null, error: safeErrorMessage(error) };
    }
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

// Driver errors can quote a connection string; keep only the first line, with credentials cut.
export function safeErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  return message
    .split("\n")[0]!
    .replace(/\/\/[^@\s]*@/g, "//***@")
    .slice(0, 200);
}

/**
 * The database's health as the latest statement that ran anyway saw it — the registry heartbeat,
 * or a /health probe — while that is at most `maxAgeMs` old; a fresh probe otherwise (before the
 * first heartbeat, or when heartbeats stall). For scrapes of /metrics and the instance's own
 * alerts: a probe of their own would cost every idle instance another transaction each time.
 */
export class ObservedDatabaseHealth {
  private last: { at: number; status: DependencyStatus } | undefined;

  constructor(
    private readonly active: () => Promise<DependencyStatus>,
    private readonly maxAgeMs: number,
  ) {}

  private record(status: DependencyStatus): DependencyStatus {
    this.last = { at: Date.now(), status };
    return status;
  }

  succeeded(latencyMs: number): void {
    this.record({ status: "up", latency_ms: Math.round(latencyMs * 100) / 100 });
  }

  failed(error: unknown): void {
    this.record({ status: "down", latency_ms: null, error: safeErrorMessage(error) });
  }

  /** Always asks the database (cached as the active check caches); what /health uses. */
  readonly probe = async (): Promise<DependencyStatus> => this.record(await this.active());

  /** The latest observation while fresh, else a probe. */
  readonly check = (): Promise<DependencyStatus> => {
    const last = this.last;
    return last && Date.now() - last.at <= this.maxAgeMs ? Promise.resolve(last.status) : this.probe();
  };
}
