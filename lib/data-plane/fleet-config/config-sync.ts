// Keeps this instance's FleetSnapshot current. Changes arrive by PostgreSQL NOTIFY on a
// dedicated connection (reconnecting with backoff). As a safety net for missed notifications it
// reads the configuration's version periodically, and reloads in full only when the version moved.
// While the database is unreachable the last snapshot keeps serving; its age (time since it was
// last confirmed current) is what readiness and the staleness alert judge.
import pg from "pg";
import type { Logger } from "pino";
import type { Queryable } from "../../platform/db/client";
import type { ModelPrice } from "../usage/prices";
import { EMPTY_SNAPSHOT, type FleetSnapshot, loadSnapshot, readConfigVersion, retiredProviders } from "./snapshot";

const CONFIG_CHANNEL = "agenticorp_config";
const PROVIDER_RETIRE_DELAY_MS = 120_000;

export interface FleetConfigOptions {
  pool: Queryable;
  /** Connection string for the LISTEN connection (must not go through PgBouncer transaction pooling). */
  listenUrl: string;
  secret: string;
  refreshMs: number;
  logger: Logger;
  /** Prices from PRICES_FILE (read once at start): over the defaults, under the console's. */
  filePrices?: Readonly<Record<string, ModelPrice>>;
  /** Listen for NOTIFY (default) or rely on the periodic check alone (CONFIG_SYNC=poll). */
  listen?: boolean;
  /** Clock for the configuration's age (ms); Date.now unless a test injects one. */
  now?: () => number;
  /** Other channels the same connection listens on, and what a notification on each does (the batch queue's wake-up). */
  channels?: Readonly<Record<string, () => void>>;
}

export class FleetConfig {
  private snapshot: FleetSnapshot = EMPTY_SNAPSHOT;
  private listener: pg.Client | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private stopped = false;
  private reconnectDelayMs = 250;
  private readonly listeners = new Set<(snapshot: FleetSnapshot) => void>();
  /** True once a snapshot was loaded from the database. */
  loaded = false;
  lastError: string | undefined;
  /**
   * When the snapshot was last known to match the database: a successful load, or a version check
   * that found nothing new. Not merely the last reload: with no change for hours, the version
   * checks keep confirming it, and a database outage is what stops them.
   */
  private confirmedAt: number | undefined;
  private readonly now: () => number;

  constructor(private readonly options: FleetConfigOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds since the configuration was last confirmed current; undefined while never loaded. */
  ageMs(): number | undefined {
    return this.confirmedAt === undefined ? undefined : Math.max(0, this.now() - this.confirmedAt);
  }

  get current(): FleetSnapshot {
    return this.snapshot;
  }

  /** config_version of the snapshot in use; undefined before the first load. */
  get version(): string | undefined {
    return this.snapshot.version;
  }

  onChange(listener: (snapshot: FleetSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.refreshTimer = setInterval(() => void this.reloadIfChanged(), this.options.refreshMs);
    this.refreshTimer.unref();
    if (this.options.listen !== false) void this.listen();
    await this.reload("start");
  }

  /** Reloads now; concurrent calls share one reload, and a call during a reload queues one more. */
  reload(reason: string): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          const startedAt = this.now();
          const next = await loadSnapshot(this.options.pool, this.options.secret, this.snapshot, this.options.filePrices);
          this.swap(next);
          this.loaded = true;
          // Current as of the read's start: a change committed during it comes by NOTIFY or the next check.
          this.confirm(startedAt);
          this.lastError = undefined;
          for (const [name, error] of next.providerErrors)
            this.options.logger.error({ provider: name, err: error }, "provider not loaded");
        } catch (error) {
          this.lastError = (error as Error).message;
          this.options.logger.warn({ err: this.lastError, reason }, "configuration reload failed; keeping the last one");
        }
      } while (this.reloadAgain && !this.stopped);
    })().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  /**
   * A version read elsewhere (the registry heartbeat reads it in the same statement): confirms the
   * snapshot when it matches, reloads when it moved. The periodic check then has nothing to ask,
   * which saves each idle instance a transaction per period.
   */
  observeVersion(version: string, askedAt: number): void {
    if (this.stopped || this.reloading || !this.loaded) return;
    if (version === this.snapshot.version) this.confirm(askedAt);
    else void this.reload("heartbeat");
  }

  private async reloadIfChanged(): Promise<void> {
    if (this.reloading) return;
    // Confirmed recently (by the heartbeat's read): nothing to ask. Three quarters of a period, so
    // that a skipped check still leaves the age under 1.75 periods (the staleness limit is ≥ 2).
    // Not when polling: the check is then how changes arrive, and skipping one would delay them.
    const polling = this.options.listen === false;
    if (!polling && this.loaded && (this.ageMs() ?? Infinity) < this.options.refreshMs * 0.75) return;
    // A failed read falls through to the reload, which reports the database's error.
    const askedAt = this.now();
    const version = await readConfigVersion(this.options.pool).catch(() => undefined);
    if (this.loaded && version !== undefined && version === this.snapshot.version) {
      this.confirm(askedAt);
      return;
    }
    await this.reload("periodic");
  }

  private confirm(at: number): void {
    this.confirmedAt = Math.max(this.confirmedAt ?? at, at);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    await this.listener?.end().catch(() => {});
    await this.reloading;
    await Promise.all([...this.snapshot.providers.values()].map((p) => p.client.close()));
  }

  private swap(next: FleetSnapshot): void {
    const retired = retiredProviders(this.snapshot, next);
    this.snapshot = next;
    if (retired.length > 0) {
      setTimeout(() => retired.forEach((p) => void p.client.close()), PROVIDER_RETIRE_DELAY_MS).unref();
    }
    for (const listener of this.listeners) listener(next);
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.options.listenUrl, application_name: "agenticorp-listen" });
    this.listener = client;
    const retry = () => {
      if (this.stopped || this.listener !== client) return;
      this.listener = undefined;
      client.end().catch(() => {});
      const delay = this.reconnectDelayMs;
      // Capped low: after an outage, notifications flow again within ~2 s of the database's
      // return (the fleet's recovery target is 10 s); a refused connect costs the server nothing.
      this.reconnectDelayMs = Math.min(delay * 2, 2_000);
      setTimeout(() => void this.listen(), delay).unref();
    };
    client.on("error", (error) => {
      this.options.logger.warn({ err: error.message }, "configuration listener lost its connection; reconnecting");
      retry();
    });
    client.on("end", retry);
    const channels = this.options.channels ?? {};
    client.on("notification", (message) => {
      if (message.channel === CONFIG_CHANNEL) void this.reload(`notify:${message.payload ?? ""}`);
      else channels[message.channel]?.();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CONFIG_CHANNEL}`);
      // Channel names are constants of the code, never input.
      for (const channel of Object.keys(channels)) await client.query(`LISTEN ${channel}`);
      this.reconnectDelayMs = 250;
      // Whatever changed while we were not listening.
      void this.reload("listen");
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, "configuration listener cannot connect; retrying");
      retry();
    }
  }
}
