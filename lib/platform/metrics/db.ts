// PostgreSQL client metrics for the process pool: connections by state, requests queued for a
// connection, and the latency of every query sent on a pooled connection (Prisma's included, since
// adapter-pg runs on the same pool). Timing wraps each pooled client as the pool creates it: an
// instance method, never pg's prototype.
import type pg from "pg";
import client from "prom-client";
import { metric, registry } from "./registry";

/** Upper bounds of agenticorp_db_query_duration_seconds; the snapshots store buckets in this order. */
export const DB_QUERY_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const pools = new Set<pg.Pool>();

function sumOver(read: (pool: pg.Pool) => number): number {
  let total = 0;
  for (const pool of pools) {
    if (pool.ended) pools.delete(pool);
    else total += read(pool);
  }
  return total;
}

export const dbPoolConnections = metric(
  "agenticorp_db_pool_connections",
  () =>
    new client.Gauge({
      name: "agenticorp_db_pool_connections",
      help: "Open PostgreSQL connections in this process's pool, by state: idle or in_use (their sum is the pool's size now).",
      labelNames: ["state"] as const,
      registers: [registry],
      collect() {
        const idle = sumOver((p) => p.idleCount);
        this.set({ state: "idle" }, idle);
        this.set({ state: "in_use" }, sumOver((p) => p.totalCount) - idle);
      },
    }),
);

export const dbPoolWaiting = metric(
  "agenticorp_db_pool_waiting_requests",
  () =>
    new client.Gauge({
      name: "agenticorp_db_pool_waiting_requests",
      help: "Requests for a PostgreSQL connection queued because every pooled connection is in use.",
      registers: [registry],
      collect() {
        this.set(sumOver((p) => p.waitingCount));
      },
    }),
);

export const dbPoolMax = metric(
  "agenticorp_db_pool_max_connections",
  () =>
    new client.Gauge({
      name: "agenticorp_db_pool_max_connections",
      help: "The most PostgreSQL connections this process's pool may open (DB_POOL_MAX).",
      registers: [registry],
      collect() {
        this.set(sumOver((p) => p.options.max ?? 10));
      },
    }),
);

export const dbQueryDuration = metric(
  "agenticorp_db_query_duration_seconds",
  () =>
    new client.Histogram({
      name: "agenticorp_db_query_duration_seconds",
      help: "Time from sending a query on a pooled PostgreSQL connection to its result or error (waiting for a connection excluded).",
      buckets: [...DB_QUERY_BOUNDS],
      registers: [registry],
    }),
);

export const dbQueryErrors = metric(
  "agenticorp_db_query_errors_total",
  () =>
    new client.Counter({
      name: "agenticorp_db_query_errors_total",
      help: "Queries on pooled PostgreSQL connections that ended in an error.",
      registers: [registry],
    }),
);

type Callback = (error: Error | null | undefined, result?: unknown) => void;

function observe(started: number, failed: boolean): void {
  dbQueryDuration.observe((performance.now() - started) / 1000);
  if (failed) dbQueryErrors.inc();
}

/**
 * Times every query of `connection`. pg.Client#query has three shapes: a callback as the last
 * argument (what pg.Pool#query uses), a returned promise, or a submittable (cursors, streams),
 * which is passed through untimed because its end is an event of its own.
 */
function timeQueries(connection: pg.PoolClient): void {
  const original = connection.query.bind(connection) as (...args: unknown[]) => unknown;
  const timed = (...args: unknown[]): unknown => {
    const first = args[0] as { submit?: unknown } | undefined;
    if (first && typeof first.submit === "function") return original(...args);
    const started = performance.now();
    const last = args.at(-1);
    if (typeof last === "function") {
      const callback = last as Callback;
      args[args.length - 1] = (error: Error | null | undefined, result?: unknown) => {
        observe(started, Boolean(error));
        callback(error, result);
      };
      return original(...args);
    }
    const result = original(...args) as Promise<unknown>;
    return result.then(
      (value) => {
        observe(started, false);
        return value;
      },
      (error: unknown) => {
        observe(started, true);
        throw error;
      },
    );
  };
  (connection as unknown as { query: typeof timed }).query = timed;
}

/** Reports `pool` in the pool gauges (until it is ended) and times the queries of every connection it opens. */
export function instrumentPool(pool: pg.Pool): void {
  pools.add(pool);
  pool.on("connect", timeQueries);
}
