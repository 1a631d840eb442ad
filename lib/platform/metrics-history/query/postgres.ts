// MetricsSource over the instances' rollups in PostgreSQL (metric_rollups). Each answer stitches
// the resolutions, with boundaries aligned to the coarser tier so that no bucket is counted twice
// or missed: the coarsest rows that fit the grid's step wherever they are complete (every finer
// row below them rolled up: see completeness.ts), finer rows for the newest minutes and wherever
// coarse rows do not fit the step, and only rows still kept (1 min rows before the 10 s rows'
// retention, 10 min rows before the 1 min rows'). A complete coarse row holds exactly the sums of
// the finer rows it replaces, so every plan of the same time gives the same answer from fewer rows.
// Fleet-wide answers read the fleet's own rows (one per bucket, kept by the leader) where complete
// and the instances' rows after that. Rows are grouped into the grid's steps. Rates are counts ÷
// the seconds of the step inside the range (the newest step is partial); gauges are averages over
// the snapshots taken in the step; percentiles come from histogram buckets added up across
// instances and rows, then interpolated like Prometheus' histogram_quantile. A step with no row at
// all is a gap (null), never a zero.
//
// Every function is answered from one of two aggregates of the plan's rows — per step for the
// fleet, per step and instance — and calls for the same plan within `shareForMs` share one query:
// the console's overview asks for its panels at once, and they read the same rows.
import { DB_BOUNDS, ENDPOINT_LAYOUT, FLEET_ROW_ID, LATENCY_BOUNDS } from "../layout";
import { NOTHING_COMPLETE, readCompleteness, type Completeness } from "./completeness";
import { Prisma, rows, type Queryable } from "../sql";
import { alignmentOf, gridFrom, planGrid, points, pointTime, type Grid } from "./grid";
import { histogramQuantile } from "./histogram";
import { readRegisteredInstances, withVitals, type InstanceVitals } from "./instances";
import type { InstanceHealth, MetricsSource, Peak, Series, Span, TimeRange, Totals } from "./types";

export type Resolution = 10 | 60 | 600;
const RESOLUTIONS: readonly Resolution[] = [600, 60, 10];

export interface PostgresSourceOptions {
  db: Queryable;
  /** How long each resolution is kept (the leader prunes after that), in seconds. */
  retentionSeconds: Record<Resolution, number>;
  /** Calls for the same plan within this long share one query (default 1000; 0 never shares). */
  shareForMs?: number;
  now?: () => number;
}

/** Rows of one resolution answer [fromMs, toMs). */
export interface TierPart {
  resolution: Resolution;
  fromMs: number;
  toMs: number;
}

export interface Plan {
  grid: Grid;
  /** Unix ms where the range ends: the newest step may end there, partial. */
  endMs: number;
  /** Oldest first; together they tile [grid start, endMs) without overlap. */
  parts: TierPart[];
  /** Where the rows, and the fleet's rows, stop being complete. */
  complete: Completeness;
}

/**
 * Pruning runs on the database's clock a little after a row's retention ends; the boundaries keep
 * this far inside retention so that a row they count on is not pruned under them.
 */
const PRUNE_MARGIN_MS = 60_000;
const ceilTo = (ms: number, toMs: number) => Math.ceil(ms / toMs) * toMs;
const floorTo = (ms: number, toMs: number) => Math.floor(ms / toMs) * toMs;

/**
 * Where each resolution takes over, from the clock and retention only (never from the range, so
 * every range reads the same rows for the same time): 10 s rows from b10 (a minute boundary),
 * 1 min rows from b60 (a 10-minute boundary), 10 min rows before.
 */
export function tierBoundaries(retentionSeconds: Record<Resolution, number>, nowMs: number): { b10: number; b60: number } {
  const b10 = ceilTo(nowMs - retentionSeconds[10] * 1000 + PRUNE_MARGIN_MS, 60_000);
  const b60 = Math.min(ceilTo(nowMs - retentionSeconds[60] * 1000 + PRUNE_MARGIN_MS, 600_000), floorTo(b10, 600_000));
  return { b10, b60 };
}

/**
 * The rows that answer [fromMs, toMs): for each resolution `fits` allows and kept since fromMs, its
 * rows up to where they are complete; elsewhere the finest kept.
 */
function tierParts(
  fromMs: number,
  toMs: number,
  retentionSeconds: Record<Resolution, number>,
  nowMs: number,
  complete: Completeness,
  fits: (resolution: Resolution) => boolean,
): TierPart[] {
  const { b10, b60 } = tierBoundaries(retentionSeconds, nowMs);
  const kept = (resolution: Resolution) => fromMs >= nowMs - retentionSeconds[resolution] * 1000 + PRUNE_MARGIN_MS;
  const coarseUntil = (resolution: Resolution) =>
    fits(resolution) && kept(resolution) ? floorTo(Math.min(complete[resolution], toMs), resolution * 1000) : -Infinity;
  const end600 = Math.max(b60, coarseUntil(600));
  const end60 = Math.max(b10, coarseUntil(60), end600);
  const spans: TierPart[] = [
    { resolution: 600, fromMs, toMs: Math.min(toMs, end600) },
    { resolution: 60, fromMs: Math.max(fromMs, end600), toMs: Math.min(toMs, end60) },
    { resolution: 10, fromMs: Math.max(fromMs, end60), toMs },
  ];
  return spans.filter((p) => p.toMs > p.fromMs);
}

/** The finest rows still kept for [fromMs, toMs), whatever is complete. */
function finestKept(fromMs: number, toMs: number, retentionSeconds: Record<Resolution, number>, nowMs: number): TierPart[] {
  return tierParts(fromMs, toMs, retentionSeconds, nowMs, NOTHING_COMPLETE, () => false);
}

/**
 * The grid and the rows that answer `range`. The step is coarsened only when it does not tile the
 * buckets of the coarsest resolution kept for the range's oldest part (e.g. a 10 s step over a day).
 * Without `complete`, coarse rows are read only where finer ones are no longer kept.
 */
export function choosePlan(
  range: TimeRange,
  retentionSeconds: Record<Resolution, number>,
  nowMs: number,
  complete: Completeness = NOTHING_COMPLETE,
): Plan {
  let grid = planGrid(range);
  // Rows are whole 10 s buckets: a range ending inside one counts all of it, and its seconds too.
  const endMs = Math.ceil(range.end.getTime() / 10_000) * 10_000;
  const coarsest = Math.max(...finestKept(grid.startMs, endMs, retentionSeconds, nowMs).map((p) => p.resolution), 10);
  if (grid.stepSeconds % coarsest !== 0 || grid.startMs % (coarsest * 1000) !== 0) {
    const step = Math.ceil(grid.stepSeconds / coarsest) * coarsest;
    grid = gridFrom(grid.startMs, endMs, step, alignmentOf(step));
  }
  // A step that is a multiple of a resolution starts on that resolution's boundary (grid.ts).
  const stepSeconds = grid.stepSeconds;
  const parts = tierParts(grid.startMs, endMs, retentionSeconds, nowMs, complete, (r) => stepSeconds % r === 0);
  return { grid, endMs, parts, complete };
}

/** The rows that answer a span's totals: any resolution whose buckets the span starts on. */
function spanParts(span: Span, retentionSeconds: Record<Resolution, number>, nowMs: number, complete: Completeness): TierPart[] {
  const startMs = span.start.getTime();
  return tierParts(startMs, span.end.getTime(), retentionSeconds, nowMs, complete, (r) => startMs % (r * 1000) === 0);
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
  const elements = Array.from(
    { length: ARRAY_COLUMNS[column] },
    (_, k) => Prisma.sql`coalesce(sum((${Prisma.raw(column)}[${k + 1}::int])::float8), 0)`,
  );
  return Prisma.sql`ARRAY[${Prisma.join(elements)}]`;
}

const sum = (expression: string) => Prisma.raw(`sum((${expression})::float8)`);
const REQUESTS = sum("requests_2xx + requests_3xx + requests_4xx + requests_5xx");

/** The start of the grid step a row's bucket falls in. */
function stepStart(grid: Grid): Prisma.Sql {
  return Prisma.sql`date_bin(${grid.stepSeconds}::int * interval '1 second', bucket, ${iso(grid.startMs)}::timestamptz)`;
}

const indexOf = (grid: Grid, start: Date) => Math.round((start.getTime() - grid.startMs) / (grid.stepSeconds * 1000));

/** Whose rows a query reads: each instance's, or the fleet's own where they are complete and the instances' after. */
type RowsOf = "instances" | "fleet";

/** The rows of the parts, each resolution on its own span (one scan; the indexes serve each arm). */
function stitched(parts: readonly TierPart[], rowsOf: RowsOf, complete: Completeness): Prisma.Sql {
  const arms: Prisma.Sql[] = [];
  const arm = (resolution: Resolution, who: Prisma.Sql, fromMs: number, toMs: number) => {
    if (toMs > fromMs)
      arms.push(
        Prisma.sql`(resolution = ${resolution}::int AND ${who} AND bucket >= ${iso(fromMs)}::timestamptz AND bucket < ${iso(toMs)}::timestamptz)`,
      );
  };
  for (const p of parts) {
    const fleetUntil =
      rowsOf === "fleet" ? Math.max(p.fromMs, Math.min(p.toMs, floorTo(complete[p.resolution], p.resolution * 1000))) : p.fromMs;
    arm(p.resolution, Prisma.sql`instance_id = ${FLEET_ROW_ID}`, p.fromMs, fleetUntil);
    arm(p.resolution, Prisma.sql`instance_id <> ${FLEET_ROW_ID}`, fleetUntil, p.toMs);
  }
  return arms.length === 0 ? Prisma.sql`false` : Prisma.join(arms, " OR ");
}

/** Seconds of step `i` inside the range: the whole step, except the newest while it fills. */
function stepSecondsIn(plan: Plan, i: number): number {
  return Math.max(0, Math.min(plan.grid.stepSeconds * 1000, plan.endMs - pointTime(plan.grid, i))) / 1000;
}

/** One step of the whole fleet: counts and merged histograms. */
interface FleetStep {
  i: number;
  requests: number;
  errors: number;
  client_errors: number;
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

  async plan(range: TimeRange): Promise<Plan> {
    return choosePlan(range, this.options.retentionSeconds, this.now(), await this.completeness());
  }

  async requestRate(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [{ name: "total", points: points(plan.grid, (i) => divide(steps.get(i)?.requests, stepSecondsIn(plan, i))) }];
  }

  async requestRateByEndpoint(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return ENDPOINT_LAYOUT.map((endpoint, e) => ({
      name: endpoint,
      labels: { endpoint },
      points: points(plan.grid, (i) => divide(steps.get(i)?.by_endpoint[e], stepSecondsIn(plan, i))),
    })).filter(servedRequests);
  }

  async requestRateByInstance(range: TimeRange): Promise<Series[]> {
    const { plan, rows } = await this.instances(range);
    return instanceSeries(plan, rows, (r) => divide(r.requests, stepSecondsIn(plan, r.i)));
  }

  async latencyPercentiles(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return (
      [
        ["p50", 0.5],
        ["p95", 0.95],
        ["p99", 0.99],
      ] as const
    ).map(([name, q]) => ({
      name,
      points: points(plan.grid, (i) => {
        const buckets = steps.get(i)?.latency;
        return buckets ? histogramQuantile(q, LATENCY_BOUNDS, buckets) : null;
      }),
    }));
  }

  async errorRate(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [
      { name: "5xx", points: points(plan.grid, (i) => ratio(steps.get(i)?.errors, steps.get(i)?.requests)) },
      { name: "4xx", points: points(plan.grid, (i) => ratio(steps.get(i)?.client_errors, steps.get(i)?.requests)) },
    ];
  }

  async upstreamAuthRejections(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [{ name: "total", points: points(plan.grid, (i) => steps.get(i)?.auth_rejected ?? null) }];
  }

  async cacheHitRate(range: TimeRange): Promise<Series[]> {
    const { plan, steps } = await this.fleet(range);
    return [
      { name: "hit_rate", points: points(plan.grid, (i) => ratio(steps.get(i)?.hits, steps.get(i)?.requests)) },
      {
        name: "cacheable_hit_rate",
        points: points(plan.grid, (i) => ratio(steps.get(i)?.hits, (steps.get(i)?.hits ?? 0) + (steps.get(i)?.misses ?? 0))),
      },
      { name: "served_per_second", points: points(plan.grid, (i) => divide(steps.get(i)?.hits, stepSecondsIn(plan, i))) },
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
    // The two aggregates are independent: read them side by side.
    const [{ plan, steps }, { rows }] = await Promise.all([this.fleet(range), this.instances(range)]);
    // Pool gauges: each instance's average over the step, added up across instances.
    const pools = new Map<number, { in_use: number; waiting: number; total: number }>();
    for (const r of rows) {
      const p = pools.get(r.i) ?? { in_use: 0, waiting: 0, total: 0 };
      pools.set(r.i, { in_use: p.in_use + r.pool_in_use, waiting: p.waiting + r.pool_waiting, total: p.total + r.pool_total });
    }
    const series = (name: string, value: (i: number) => number | null | undefined) => ({
      name,
      points: points(plan.grid, value),
    });
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

  async totals(range: Span): Promise<Totals> {
    const complete = await this.completeness();
    const parts = spanParts(range, this.options.retentionSeconds, this.now(), complete);
    const [found] = await rows<{
      requests: number | null;
      client_errors: number | null;
      errors: number | null;
      hits: number | null;
      misses: number | null;
      bypass: number | null;
      latency: number[];
    }>(
      this.options.db,
      Prisma.sql`
        SELECT ${REQUESTS} AS requests, ${sum("requests_4xx")} AS client_errors, ${sum("requests_5xx")} AS errors,
               ${sum("cache_hits")} AS hits, ${sum("cache_misses")} AS misses, ${sum("cache_bypass")} AS bypass,
               ${sumArray("latency_buckets")} AS latency
        FROM metric_rollups WHERE ${stitched(parts, "fleet", complete)}`,
    );
    return {
      requests: found?.requests ?? 0,
      requests4xx: found?.client_errors ?? 0,
      requests5xx: found?.errors ?? 0,
      cacheHits: found?.hits ?? 0,
      cacheMisses: found?.misses ?? 0,
      cacheBypass: found?.bypass ?? 0,
      latencyP95Seconds: found ? histogramQuantile(0.95, LATENCY_BOUNDS, found.latency) : null,
    };
  }

  async peakRequestRate(range: Span): Promise<Peak> {
    const complete = await this.completeness();
    const parts = finestKept(range.start.getTime(), range.end.getTime(), this.options.retentionSeconds, this.now());
    // Each stored bucket on its own (the finest resolution there is for its time), fleet-wide.
    const [top] = await rows<{ resolution: number; bucket: Date; per_second: number }>(
      this.options.db,
      Prisma.sql`
        SELECT resolution, bucket, ${REQUESTS} / resolution AS per_second
        FROM metric_rollups WHERE ${stitched(parts, "fleet", complete)}
        GROUP BY resolution, bucket ORDER BY 3 DESC, 1, 2 LIMIT 1`,
    );
    const finest = parts.at(-1)?.resolution ?? 10;
    return top
      ? { perSecond: top.per_second, resolutionSeconds: top.resolution, at: top.bucket.getTime() }
      : { perSecond: null, resolutionSeconds: finest, at: null };
  }

  async instanceHealth(): Promise<InstanceHealth[]> {
    const registered = await readRegisteredInstances(this.options.db);
    // The last minute of 10 s rows: rates over the seconds they cover, gauges from the newest row.
    const latest = await rows<{
      instance_id: string;
      rps: number | null;
      cpu: number | null;
      rss: number | null;
      in_flight: number | null;
    }>(
      this.options.db,
      Prisma.sql`
        SELECT instance_id,
               ${REQUESTS} / nullif(sum(seconds), 0) AS rps,
               (100 * sum(cpu_seconds) / nullif(sum(seconds), 0))::float8 AS cpu,
               ((array_agg(rss_bytes_sum / samples ORDER BY bucket DESC))[1])::float8 AS rss,
               ((array_agg(in_flight_sum / samples ORDER BY bucket DESC))[1])::float8 AS in_flight
        FROM metric_rollups
        WHERE resolution = 10 AND instance_id <> ${FLEET_ROW_ID} AND bucket >= ${iso(this.now() - 60_000)}::timestamptz
        GROUP BY instance_id`,
    );
    const vitals = new Map<string, Partial<InstanceVitals>>(
      latest.map((r) => [r.instance_id, { requestsPerSecond: r.rps, cpuPercent: r.cpu, rssBytes: r.rss, inFlight: r.in_flight }]),
    );
    return withVitals(registered, vitals);
  }

  /** The fleet aggregate of the range's plan, by step. */
  private async fleet(range: TimeRange): Promise<{ plan: Plan; steps: Map<number, FleetStep> }> {
    const plan = await this.plan(range);
    const steps = await this.share(`fleet:${planKey(plan)}`, async () => {
      const found = await rows<Omit<FleetStep, "i"> & { step: Date }>(
        this.options.db,
        Prisma.sql`
          SELECT ${stepStart(plan.grid)} AS step, ${REQUESTS} AS requests, ${sum("requests_5xx")} AS errors, ${sum("requests_4xx")} AS client_errors,
                 ${sum("cache_hits")} AS hits, ${sum("cache_misses")} AS misses,
                 ${sumArray("latency_buckets")} AS latency, ${sumArray("db_query_buckets")} AS db_query,
                 ${sumArray("requests_by_endpoint")} AS by_endpoint, ${sum("upstream_auth_rejected")} AS auth_rejected
          FROM metric_rollups WHERE ${stitched(plan.parts, "fleet", plan.complete)}
          GROUP BY 1`,
      );
      return new Map(found.map(({ step, ...r }) => [indexOf(plan.grid, step), { ...r, i: indexOf(plan.grid, step) }]));
    });
    return { plan, steps };
  }

  /** The per-instance aggregate of the range's plan, by step and instance. */
  private async instances(range: TimeRange): Promise<{ plan: Plan; rows: InstanceStep[] }> {
    const plan = await this.plan(range);
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
          FROM metric_rollups WHERE ${stitched(plan.parts, "instances", plan.complete)}
          GROUP BY 1, 2`,
      );
      return steps.map(({ step, ...r }) => ({ ...r, i: indexOf(plan.grid, step) }));
    });
    return { plan, rows: found };
  }

  /** Shared like the aggregates: the console's panels ask at once. */
  private completeness(): Promise<Completeness> {
    return this.share("completeness", () => readCompleteness(this.options.db));
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

const planKey = ({ grid, endMs, parts, complete }: Plan) =>
  `${grid.startMs}:${grid.stepSeconds}:${grid.count}:${endMs}:${parts.map((p) => `${p.resolution}@${p.fromMs}`).join(",")}:${RESOLUTIONS.map((r) => complete[r]).join(",")}`;

/** Endpoints are listed once they served a request in the range, as Prometheus lists their series. */
export const servedRequests = (series: Series) => series.points.some((p) => (p.v ?? 0) > 0);

function divide(value: number | undefined, by: number): number | null {
  return value === undefined || !(by > 0) ? null : value / by;
}

function ratio(part: number | undefined, whole: number | undefined): number | null {
  return part === undefined || whole === undefined || whole === 0 ? null : part / whole;
}

function instanceSeries(plan: Plan, found: InstanceStep[], value: (row: InstanceStep) => number | null): Series[] {
  const byInstance = new Map<string, Map<number, InstanceStep>>();
  for (const row of found) {
    let steps = byInstance.get(row.instance_id);
    if (!steps) byInstance.set(row.instance_id, (steps = new Map<number, InstanceStep>()));
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
