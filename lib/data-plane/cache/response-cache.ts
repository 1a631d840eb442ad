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
//
// Not every answer is worth a shared row. One larger than `sharedMaxEntryBytes` stays local. One
// this instance has been asked for fewer than `sharedMinSightings` times (counted while its local
// entry lives, concurrent identical requests included) waits: unique traffic then costs the
// database nothing, and an answer asked for again is written on the sighting that reaches the
// count. The table's size is bounded by the leader (./shared-bound.ts), not here.
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import stringify from "safe-stable-stringify";
import type pg from "pg";
import type { Config } from "../../platform/config";
import { type Waiter, WaiterGroup } from "../gateway/waiters";
import { cacheSharedWrites } from "../../platform/metrics/gateway";

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
  /** Answers larger than this (UTF-8 bytes) are never written to the shared table; default unlimited. */
  sharedMaxEntryBytes?: number;
  /** Sightings on this instance before an answer is written to the shared table; default 1 (every answer). Needs the local cache. */
  sharedMinSightings?: number;
  onSharedError?: (error: Error) => void;
}

interface InFlight {
  answer: Promise<{ body: string; from: "upstream" | "shared" }>;
  waiters: WaiterGroup;
  /** Requests for this key that joined the production: each a sighting. */
  sightings: number;
}

/** A local entry, and whether its answer still waits for enough sightings to be shared. */
interface LocalEntry {
  body: string;
  model: string;
  sightings: number;
  /** Written (or queued) to the shared table, read from it, or never to be written. */
  settled: boolean;
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
  private readonly local: LRUCache<string, LocalEntry> | undefined;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly pending: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: ResponseCacheOptions) {
    this.local =
      options.maxEntries > 0
        ? new LRUCache<string, LocalEntry>({
            max: options.maxEntries,
            maxSize: options.maxBytes ?? 64 * 1_048_576,
            sizeCalculation: (entry) => entry.body.length || 1,
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
  async getOrProduce(
    key: string,
    model: string,
    waiter: Waiter,
    produce: (waiters: Waiter) => Promise<string>,
  ): Promise<{ body: string; hit: boolean }> {
    const cached = this.local?.get(key);
    if (cached !== undefined) {
      if (!cached.settled) this.sighted(key, cached, 1);
      return { body: cached.body, hit: true };
    }
    let shared = this.inFlight.get(key);
    // A production whose waiters all left is being cancelled: a newcomer starts its own.
    const leader = !shared?.waiters.add(waiter);
    if (leader) {
      const waiters = new WaiterGroup(waiter);
      const entry: InFlight = {
        answer: this.lookupOrProduce(
          key,
          model,
          () => produce(waiters),
          () => entry.sightings,
        ).finally(() => {
          if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
        }),
        waiters,
        sightings: 1,
      };
      this.inFlight.set(key, (shared = entry));
    } else shared!.sightings++;
    const { body, from } = await shared!.answer;
    // Followers of a single upstream call were served without one: hits too.
    return { body, hit: from === "shared" || !leader };
  }

  /** Writes the next batch of queued writes (after the one being written, if any). */
  async flush(): Promise<void> {
    // Another caller may start a batch while this one waits: wait until none is being written.
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, 500);
    const flushing: Promise<void> = this.options.pool
      .query(
        `INSERT INTO response_cache (key, model, body, expires_at, size_bytes)
         SELECT k, m, b, now() + make_interval(secs => $4::int), octet_length(k) + octet_length(m) + octet_length(b)
         FROM unnest($1::text[], $2::text[], $3::text[]) AS t(k, m, b)
         ON CONFLICT (key) DO UPDATE SET body = excluded.body, model = excluded.model, expires_at = excluded.expires_at, size_bytes = excluded.size_bytes`,
        [batch.map((w) => w.key), batch.map((w) => w.model), batch.map((w) => w.body), this.options.ttlSeconds],
      )
      .then(
        () => cacheSharedWrites.inc({ outcome: "written" }, batch.length),
        (error: Error) => {
          cacheSharedWrites.inc({ outcome: "failed" }, batch.length);
          this.options.onSharedError?.(error);
        },
      )
      .finally(() => {
        if (this.flushing === flushing) this.flushing = undefined;
        if (this.pending.length > 0) setImmediate(() => void this.flush());
      });
    this.flushing = flushing;
    return flushing;
  }

  /** Resolves once every queued write has been written or has failed. */
  async close(): Promise<void> {
    // Bounded: each flush takes a batch off the queue, written or not.
    do await this.flush();
    while (this.pending.length > 0 || this.flushing);
  }

  private async lookupOrProduce(key: string, model: string, produce: () => Promise<string>, sightings: () => number) {
    const stored = await this.readShared(key);
    if (stored !== undefined) {
      this.local?.set(key, { body: stored, model, sightings: 0, settled: true });
      return { body: stored, from: "shared" as const };
    }
    const body = await produce();
    this.sighted(key, { body, model, sightings: 0, settled: false }, sightings());
    return { body, from: "upstream" as const };
  }

  /** Counts `count` more sightings of a local entry's answer, and shares it when they reach the bar. */
  private sighted(key: string, entry: LocalEntry, count: number): void {
    const first = entry.sightings === 0;
    entry.sightings += count;
    const maxBytes = this.options.sharedMaxEntryBytes;
    if (first && maxBytes !== undefined && Buffer.byteLength(entry.body) > maxBytes) {
      entry.settled = true;
      cacheSharedWrites.inc({ outcome: "too_large" });
    } else if (!this.local || entry.sightings >= (this.options.sharedMinSightings ?? 1)) {
      entry.settled = true;
      this.enqueue({ key, model: entry.model, body: entry.body });
    } else if (first) cacheSharedWrites.inc({ outcome: "unrepeated" });
    if (first) this.local?.set(key, entry);
  }

  private enqueue(write: PendingWrite): void {
    // Bounded: when the database is away, writes beyond this are dropped (it is only a cache).
    if (this.pending.length >= 10_000) return void cacheSharedWrites.inc({ outcome: "dropped" });
    this.pending.push(write);
    if (!this.flushing) setImmediate(() => void this.flush());
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
