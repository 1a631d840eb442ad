// Exact-match response cache for deterministic, non-streaming completions. A bounded in-process
// LRU sits in front of a shared PostgreSQL table, so one instance's answer is a hit on every
// other. Concurrent identical misses on one instance share a single upstream call, which goes on
// while any of their clients still waits.
//
// Scope: by default each API key has its own entries (its id is hashed into the cache key, in the
// LRU and the table alike), so a hit never tells one tenant what another asked. CACHE_SCOPE=fleet
// shares answers across keys, for teams that trust each other and want the hit rate.
//
// Only cacheable requests ever touch the shared table, only after a local miss, and a read that
// takes longer than `sharedReadTimeoutMs` counts as a miss: a slow database never slows the
// gateway by more than that. Writes are queued and flushed off the request path, one statement
// at a time: writes that arrive while one is running go together in the next.
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import stringify from "safe-stable-stringify";
import type pg from "pg";
import type { Config } from "../config";
import { type Waiter, WaiterGroup } from "../gateway/waiters";

export type CacheDecision = "cacheable" | "bypass";

export interface ResponseCacheOptions {
  pool: pg.Pool;
  ttlSeconds: number;
  maxEntries: number;
  /** Upper bound on memory held by cached bodies. */
  maxBytes?: number;
  sharedReadTimeoutMs?: number;
  /** Whose answers a request may be served: its own key's (default) or the whole fleet's. */
  scope?: Config["CACHE_SCOPE"];
  onSharedError?: (error: Error) => void;
}

interface InFlight {
  answer: Promise<{ body: string; from: "upstream" | "shared" }>;
  waiters: WaiterGroup;
}

/** Fields that do not change the answer, left out of the key. */
const KEY_IGNORED = new Set(["stream", "stream_options", "user"]);

export function cacheDecision(body: Record<string, unknown>, header: string | undefined): CacheDecision {
  if (header === "bypass" || body.stream === true) return "bypass";
  if (header === "force") return "cacheable";
  return body.temperature === 0 || typeof body.seed === "number" ? "cacheable" : "bypass";
}

/**
 * The cache key of a request body within `tenant` (an API key's id; "" for the whole fleet) and
 * `namespace` (an API whose bodies and cached answers are kept apart from chat's; "" for chat's).
 */
export function cacheKey(body: Record<string, unknown>, tenant = "", namespace = ""): string {
  const normalised: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) if (!KEY_IGNORED.has(field)) normalised[field] = value;
  // A key id never contains a newline, and the JSON after it starts with "{": no two tenants' inputs can meet.
  // Neither starts with "@": no namespace meets a tenant or a body.
  const hash = createHash("sha256");
  if (namespace) hash.update(`@${namespace}\n`);
  if (tenant) hash.update(`${tenant}\n`);
  return hash.update(stringify(normalised) ?? "").digest("hex");
}

interface PendingWrite {
  key: string;
  model: string;
  body: string;
}

export class ResponseCache {
  private readonly local: LRUCache<string, string> | undefined;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly pending: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: ResponseCacheOptions) {
    this.local =
      options.maxEntries > 0
        ? new LRUCache<string, string>({
            max: options.maxEntries,
            maxSize: options.maxBytes ?? 64 * 1_048_576,
            sizeCalculation: (value) => value.length || 1,
            ttl: options.ttlSeconds * 1000,
          })
        : undefined;
  }

  /** The cache key of a request from the API key `apiKeyId`, in this cache's scope (see cacheKey for `namespace`). */
  keyFor(body: Record<string, unknown>, apiKeyId: string, namespace?: string): string {
    return cacheKey(body, this.options.scope === "fleet" ? "" : apiKeyId, namespace);
  }

  /**
   * Returns the cached body (serialised JSON) or calls `produce` once for all concurrent callers
   * with the same key, storing what it returns. `produce` is given everyone waiting for it: gone
   * only when each caller's `waiter` has gone, which is when it should give up.
   */
  async getOrProduce(key: string, model: string, waiter: Waiter, produce: (waiters: Waiter) => Promise<string>): Promise<{ body: string; hit: boolean }> {
    const cached = this.local?.get(key);
    if (cached !== undefined) return { body: cached, hit: true };
    let shared = this.inFlight.get(key);
    // A production whose waiters all left is being cancelled: a newcomer starts its own.
    const leader = !shared?.waiters.add(waiter);
    if (leader) {
      const waiters = new WaiterGroup(waiter);
      const entry: InFlight = {
        answer: this.lookupOrProduce(key, model, () => produce(waiters)).finally(() => {
          if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
        }),
        waiters,
      };
      this.inFlight.set(key, (shared = entry));
    }
    const { body, from } = await shared!.answer;
    // Followers of a single upstream call were served without one: hits too.
    return { body, hit: from === "shared" || !leader };
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, 500);
    this.flushing = this.options.pool
      .query(
        `INSERT INTO response_cache (key, model, body, expires_at)
         SELECT k, m, b, now() + make_interval(secs => $4::int)
         FROM unnest($1::text[], $2::text[], $3::text[]) AS t(k, m, b)
         ON CONFLICT (key) DO UPDATE SET body = excluded.body, model = excluded.model, expires_at = excluded.expires_at`,
        [batch.map((w) => w.key), batch.map((w) => w.model), batch.map((w) => w.body), this.options.ttlSeconds],
      )
      .then(
        () => {},
        (error: Error) => this.options.onSharedError?.(error),
      )
      .finally(() => {
        this.flushing = undefined;
        if (this.pending.length > 0) setImmediate(() => void this.flush());
      });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async lookupOrProduce(key: string, model: string, produce: () => Promise<string>) {
    const stored = await this.readShared(key);
    if (stored !== undefined) {
      this.local?.set(key, stored);
      return { body: stored, from: "shared" as const };
    }
    const body = await produce();
    this.local?.set(key, body);
    // Bounded: when the database is away, writes beyond this are dropped (it is only a cache).
    if (this.pending.length < 10_000) this.pending.push({ key, model, body });
    if (!this.flushing) setImmediate(() => void this.flush());
    return { body, from: "upstream" as const };
  }

  private async readShared(key: string): Promise<string | undefined> {
    const timeoutMs = this.options.sharedReadTimeoutMs ?? 50;
    let timer: NodeJS.Timeout | undefined;
    const query = this.options.pool
      .query<{ body: string }>(`SELECT body FROM response_cache WHERE key = $1 AND expires_at > now()`, [key])
      .then((result) => result.rows[0]?.body)
      .catch((error: Error) => {
        this.options.onSharedError?.(error);
        return undefined;
      });
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    return Promise.race([query, timeout]).finally(() => clearTimeout(timer));
  }
}
