// MetricsSource over the instances' rollups in PostgreSQL (metric_rollups). Each answer reads one
// resolution — the coarsest whose buckets tile the step and that still reaches back to the
// range's start — and groups its rows into the grid's steps. Rates are counts ÷ step; gauges are
// averages over the snapshots taken in the step; percentiles come from histogram buckets added
// up across instances and rows, then interpolated like Prometheus' histogram_quantile. A step with
// no row at all is a gap (null), never a zero.
//
// Every function is answered from one of two aggregates of the plan's rows — per step for the
// fleet, per step and instance — and calls for the same plan within `shareForMs` share one query:
// the console's overview asks for six panels at once, and they read the same rows.
import { DB_BOUNDS, ENDPOINT_LAYOUT, LATENCY_BOUNDS } from "../../observability/layout";
import { Prisma, rows, type Queryable } from "../../observability/sql";
import { alignmentOf, gridFrom, planGrid, points, type Grid } from "./grid";
import { histogramQuantile } from "./histogram";
import { readRegisteredInstances, withVitals, type InstanceVitals } from "./instances";
import type { InstanceHealth, MetricsSource, Series, TimeRange } from "./types";

export const RESOLUTIONS = [10, 60, 600] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface PostgresSourceOptions {
  db: Queryable;
  /** How long each resolution is kept (the leader prunes after that), in seconds. */
  retentionSeconds: Record<Resolution, number>;
  /** Calls for the same plan within this long share one query (default 1000; 0 never shares). */
  shareForMs?: number;
  now?: () => number;
}

export interface Plan {
  grid: Grid;
  resolution: Resolution;
}

/** Which resolution answers `range`, and on which grid (coarsened only if the fitting tier was pruned). */
export function choosePlan(range: TimeRange, retentionSeconds: Record<Resolution, number>, nowMs: number): Plan {
  const grid = planGrid(range);
  const reaches = (r: Resolution) => grid.startMs >= nowMs - retentionSeconds[r] * 1000;
  const coarsestFirst = [...RESOLUTIONS].reverse();
  const fitting = coarsestFirst.find((r) => grid.stepSeconds % r === 0 && grid.startMs % (r * 1000) === 0 && reaches(r));
  if (fitting) return { grid, resolution: fitting };
  const kept = RESOLUTIONS.find(reaches) ?? 600;
  const step = Math.ceil(grid.stepSeconds / kept) * kept;
  return { grid: gridFrom(grid.startMs, range.end.getTime(), step, alignmentOf(step)), resolution: kept };
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Array columns and their lengths. */
const ARRAY_COLUMNS = {
  latency_buckets: LATENCY_BOUNDS.length + 1,
  db_query_buckets: DB_BOUNDS.length + 1,
  requests_by_endpoint: ENDPOINT_LAYOUT.length,
} as const;
const MAX_SHARED = 64;

// Sums are taken as float8 (exact for counts below 2^53): their aggregate states are small enough
// for a hash aggregate, where bigint sums made PostgreSQL sort 24 h of rows through a temp file.

/** Element-wise sum of an array column (histogram buckets, per-endpoint counts) over the group, as float8[]. */
function sumArray(column: keyof typeof ARRAY_COLUMNS): Prisma.Sql {
  const elements = Array.from({ length: ARRAY_COLUMNS[column] }, (_, k) => Prisma.sql`coalesce(sum((${Prisma.raw(column)}[${k + 1}::int])::float8), 0)`);
  return Prisma.sql`ARRAY[${Prisma.join(elements)}]`;
}

const sum = (expression: string) => Prisma.raw(`sum((${expression})::float8)`);
const REQUESTS = sum("requests_2xx + requests_3xx + requests_4xx + requests_5xx");

/** The start of the grid step a row's bucket falls in. */
function stepStart(grid: Grid): Prisma.Sql {
  return Prisma.sql`date_bin(${grid.stepSeconds}::int * interval '1 second', bucket, ${iso(grid.startMs)}::timestamptz)`;
}

const indexOf = (grid: Grid, start: Date) => Math.round((start.getTime() - grid.startMs) / (grid.stepSeconds * 1000));

function inRange({ grid, resolution }: Plan): Prisma.Sql {
  const end = grid.startMs + grid.count * grid.stepSeconds * 1000;
  return Prisma.sql`resolution = ${resolution}::int AND bucket >= ${iso(grid.startMs)}::timestamptz AND bucket < ${iso(end)}::timestamptz`;
}

/** One step of the whole fleet: counts and merged histograms. */
interface FleetStep {
  i: number;
  requests: number;
  errors: number;
  hits: number;
  misses: number;
  latency: number[];
  db_query: number[];
  /** Requests per endpoint, in ENDPOINT_LAYOUT order. */
  by_endpoint: number[];
  auth_rejected: number;
}

/** One step of one instance: its requests, and its gauges averaged over its snapshots in the step. */
interface InstanceStep {
  i: number;
  instance_id: string;
  requests: number;
  in_flight: number;
  connections: number;
  cpu: number | null;
  rss: number;
  memory_share: number | null;
  pool_in_use: number;
  pool_waiting: number;
  pool_total: number;
}

export class PostgresMetricsSource implements MetricsSource {
  readonly kind = "postgres" as const;
  private readonly now: () => number;
  private readonly shared = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(private readonly options: PostgresSourceOptions) {
    this.now = options.now ?? Date.now;
  }

  plan(range: TimeRange): Plan {
    return choosePlan(range, this.options.retentionSeconds, this.now());
  }

  async requestRate(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [{ name: "total", points: points(plan.grid, (i) => divide(steps.get(i)?.requests, plan.grid.stepSeconds)) }];
  }

  async requestRateByEndpoint(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return ENDPOINT_LAYOUT.map((endpoint, e) => ({
      name: endpoint,
      labels: { endpoint },
      points: points(plan.grid, (i) => divide(steps.get(i)?.by_endpoint[e], plan.grid.stepSeconds)),
    })).filter(servedRequests);
  }

  async requestRateByInstance(range: TimeRange): Promise<Series[]> {
    const { plan, rows } = await this.instances(range);
    return instanceSeries(plan, rows, (r) => r.requests / plan.grid.stepSeconds);
  }

  async latencyPercentiles(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return ([["p50", 0.5], ["p95", 0.95], ["p99", 0.99]] as const).map(([name, q]) => ({
      name,
      points: points(plan.grid, (i) => {
        const buckets = steps.get(i)?.latency;
        return buckets ? histogramQuantile(q, LATENCY_BOUNDS, buckets) : null;
      }),
    }));
  }

  async errorRate(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [{ name: "total", points: points(plan.grid, (i) => ratio(steps.get(i)?.errors, steps.get(i)?.requests)) }];
  }

  async upstreamAuthRejections(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [{ name: "total", points: points(plan.grid, (i) => steps.get(i)?.auth_rejected ?? null) }];
  }

  async cacheHitRate(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [
      { name: "hit_rate", points: points(plan.grid, (i) => ratio(steps.get(i)?.hits, (steps.get(i)?.hits ?? 0) + (steps.get(i)?.misses ?? 0))) },
      { name: "served_per_second", points: points(plan.grid, (i) => divide(steps.get(i)?.hits, plan.grid.stepSeconds)) },
    ];
  }

  async inFlight(range: TimeRange): Promise<Series[]> {
    const { plan, rows } = await this.instances(range);
    return instanceSeries(plan, rows, (r) => r.in_flight);
  }

  async activeConnections(range: TimeRange): Promise<Series[]> {
    const { plan, rows } = await this.instances(range);
    return instanceSeries(plan, rows, (r) => r.connections);
  }

  async cpuUtilisation(range: TimeRange): Promise<Series[]> {
    const { plan, rows } = await this.instances(range);
    return instanceSeries(plan, rows, (r) => r.cpu);
  }

  async memoryBytes(range: TimeRange): Promise<Series[]> {
    const { plan, rows } = await this.instances(range);
    return instanceSeries(plan, rows, (r) => r.rss);
  }

  async memoryUtilisation(range: TimeRange): Promise<Series[]> {
    const { plan, rows } = await this.instances(range);
    return instanceSeries(plan, rows, (r) => r.memory_share);
  }

  async databasePerformance(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    const { rows } = await this.instances(range);
    // Pool gauges: each instance's average over the step, added up across instances.
    const pools = new Map<number, { in_use: number; waiting: number; total: number }>();
    for (const r of rows) {
      const p = pools.get(r.i) ?? { in_use: 0, waiting: 0, total: 0 };
      pools.set(r.i, { in_use: p.in_use + r.pool_in_use, waiting: p.waiting + r.pool_waiting, total: p.total + r.pool_total });
    }
    const series = (name: string, value: (i: number) => number | null | undefined) => ({ name, points: points(plan.grid, value) });
    return [
      series("query_p95_seconds", (i) => {
        const buckets = steps.get(i)?.db_query;
        return buckets ? histogramQuantile(0.95, DB_BOUNDS, buckets) : null;
      }),
      series("pool_in_use", (i) => pools.get(i)?.in_use),
      series("pool_waiting", (i) => pools.get(i)?.waiting),
      series("pool_total", (i) => pools.get(i)?.total),
    ];
  }

  async instanceHealth(): Promise<InstanceHealth[]> {
    const registered = await readRegisteredInstances(this.options.db);
    // The last minute of 10 s rows: rates over the seconds they cover, gauges from the newest row.
    const latest = await rows<{ instance_id: string; rps: number | null; cpu: number | null; rss: number | null; in_flight: number | null }>(
      this.options.db,
      Prisma.sql`
        SELECT instance_id,
               ${REQUESTS} / nullif(sum(seconds), 0) AS rps,
               (100 * sum(cpu_seconds) / nullif(sum(seconds), 0))::float8 AS cpu,
               ((array_agg(rss_bytes_sum / samples ORDER BY bucket DESC))[1])::float8 AS rss,
               ((array_agg(in_flight_sum / samples ORDER BY bucket DESC))[1])::float8 AS in_flight
        FROM metric_rollups
        WHERE resolution = 10 AND bucket >= ${iso(this.now() - 60_000)}::timestamptz
        GROUP BY instance_id`,
    );
    const vitals = new Map<string, Partial<InstanceVitals>>(
      latest.map((r) => [r.instance_id, { requestsPerSecond: r.rps, cpuPercent: r.cpu, rssBytes: r.rss, inFlight: r.in_flight }]),
    );
    return withVitals(registered, vitals);
  }

  /** The fleet aggregate of the range's plan, by step. */
  private async fleet(range: TimeRange): Promise<{ plan: Plan; steps: Map<number, FleetStep> }> {
    const plan = this.plan(range);
    const steps = await this.share(`fleet:${planKey(plan)}`, async () => {
      const found = await rows<Omit<FleetStep, "i"> & { step: Date }>(
        this.options.db,
        Prisma.sql`
          SELECT ${stepStart(plan.grid)} AS step, ${REQUESTS} AS requests, ${sum("requests_5xx")} AS errors,
                 ${sum("cache_hits")} AS hits, ${sum("cache_misses")} AS misses,
                 ${sumArray("latency_buckets")} AS latency, ${sumArray("db_query_buckets")} AS db_query,
                 ${sumArray("requests_by_endpoint")} AS by_endpoint, ${sum("upstream_auth_rejected")} AS auth_rejected
          FROM metric_rollups WHERE ${inRange(plan)}
          GROUP BY 1`,
      );
      return new Map(found.map(({ step, ...r }) => [indexOf(plan.grid, step), { ...r, i: indexOf(plan.grid, step) }]));
    });
    return { plan, steps };
  }

  /** The per-instance aggregate of the range's plan, by step and instance. */
  private async instances(range: TimeRange): Promise<{ plan: Plan; rows: InstanceStep[] }> {
    const plan = this.plan(range);
    const found = await this.share(`instances:${planKey(plan)}`, async () => {
      const steps = await rows<Omit<InstanceStep, "i"> & { step: Date }>(
        this.options.db,
        Prisma.sql`
          SELECT ${stepStart(plan.grid)} AS step, instance_id, ${REQUESTS} AS requests,
                 ${sum("in_flight_sum")} / ${sum("samples")} AS in_flight,
                 ${sum("connections_sum")} / ${sum("samples")} AS connections,
                 100 * ${sum("cpu_seconds")} / nullif(${sum("seconds")}, 0) AS cpu,
                 ${sum("rss_bytes_sum")} / ${sum("samples")} AS rss,
                 100 * ${sum("rss_bytes_sum")} / ${sum("samples")} / nullif(max(memory_limit_bytes)::float8, 0) AS memory_share,
                 ${sum("db_pool_in_use_sum")} / ${sum("samples")} AS pool_in_use,
                 ${sum("db_pool_waiting_sum")} / ${sum("samples")} AS pool_waiting,
                 ${sum("db_pool_total_sum")} / ${sum("samples")} AS pool_total
          FROM metric_rollups WHERE ${inRange(plan)}
          GROUP BY 1, 2`,
      );
      return steps.map(({ step, ...r }) => ({ ...r, i: indexOf(plan.grid, step) }));
    });
    return { plan, rows: found };
  }

  private share<T>(key: string, load: () => Promise<T>): Promise<T> {
    const shareForMs = this.options.shareForMs ?? 1_000;
    if (shareForMs <= 0) return load();
    const now = performance.now();
    for (const [k, entry] of this.shared) if (now - entry.at > shareForMs || this.shared.size > MAX_SHARED) this.shared.delete(k);
    const existing = this.shared.get(key);
    if (existing) return existing.value as Promise<T>;
    const value = load();
    this.shared.set(key, { at: now, value });
    value.catch(() => this.shared.delete(key));
    return value;
  }
}

const planKey = ({ resolution, grid }: Plan) => `${resolution}:${grid.startMs}:${grid.stepSeconds}:${grid.count}`;

/** Endpoints are listed once they served a request in the range, as Prometheus lists their series. */
export const servedRequests = (series: Series) => series.points.some((p) => (p.v ?? 0) > 0);

function divide(value: number | undefined, by: number): number | null {
  return value === undefined ? null : value / by;
}

function ratio(part: number | undefined, whole: number | undefined): number | null {
  return part === undefined || whole === undefined || whole === 0 ? null : part / whole;
}

function instanceSeries(plan: Plan, found: InstanceStep[], value: (row: InstanceStep) => number | null): Series[] {
  const byInstance = new Map<string, Map<number, InstanceStep>>();
  for (const row of found) {
    let steps = byInstance.get(row.instance_id);
    if (!steps) byInstance.set(row.instance_id, (steps = new Map()));
    steps.set(row.i, row);
  }
  return [...byInstance.keys()].sort().map((id) => {
    const steps = byInstance.get(id)!;
    return {
      name: id,
      labels: { instance_id: id },
      points: points(plan.grid, (i) => {
        const row = steps.get(i);
        return row ? value(row) : null;
      }),
    };
  });
}
