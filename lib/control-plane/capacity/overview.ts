// What the Capacity page and the policy simulator show, gathered from the metrics source (peak,
// observed capacity, recorded load), the capacity tables and the scaling policies.
import "server-only";
import type { PrismaClient } from "../../platform/db/generated/client";
import type { MetricsSource, Series } from "../../platform/metrics-history/query/types";
import { MAX_POINTS } from "../../platform/metrics-history/query/grid";
import { DEFAULT_MIN_REPLICAS } from "../alerts/policy";
import { getActivePolicy, listPolicies } from "../scaling/store";
import { PRESETS, DEFAULT_POLICY } from "../scaling/policies";
import {
  capacityAtTargetCpu,
  peakOf,
  recommend,
  type InstanceSizeRow,
  type LoadSample,
  type ObservedCapacity,
  type Peak,
  type Recommendation,
  type ScheduleRow,
} from "./planning";
import { loadFromSeries, simulatePolicies, type SimulationResult } from "./simulator";
import { getCapacitySettings, latestBenchmark, listInstanceSizes, listSchedule, type CapacitySettings } from "./store";

export interface CapacityContext {
  prisma: PrismaClient;
  source: Pick<MetricsSource, "requestRate" | "requestRateByInstance" | "cpuUtilisation">;
  /** Converts the source's CPU (% of one core) to % of the CPU request, as policies count it. */
  cpuScale: number;
  now?: number;
}

const DAY_MS = 86_400_000;
/** Capacity is fitted over the last day at most: older software may have been slower or faster. */
const FIT_WINDOW_MS = DAY_MS;
/** Steps the peak may be read at, finest first; each tiles the rollups' 1-minute or 10-minute buckets. */
const PEAK_STEPS_SECONDS = [60, 600, 1_200, 1_800, 3_600, 21_600, 86_400] as const;

/**
 * The finest step at which a look-back of `seconds` fits in one query (the sources answer at most
 * MAX_POINTS points): 1 minute up to about a week, coarser beyond, so that every look-back the
 * settings allow can be shown. The peak is then the busiest step's average.
 */
export function peakStepFor(seconds: number): number {
  // One point more than seconds ÷ step: the grid starts on a step boundary at or before the start.
  return PEAK_STEPS_SECONDS.find((step) => Math.ceil(seconds / step) + 1 <= MAX_POINTS) ?? PEAK_STEPS_SECONDS.at(-1)!;
}

export interface CapacityOverview {
  generatedAt: number;
  settings: CapacitySettings;
  policy: { name: string; targetCpuPercent: number; minReplicas: number; maxReplicas: number };
  peak: Peak | null;
  /** The resolution the peak was read at: it is the busiest step's average. */
  peakStepSeconds: number;
  /** Why the measurements could not be read (the tables and settings still are); null when they were. */
  metricsError: string | null;
  observed: ObservedCapacity | null;
  benchmark: Awaited<ReturnType<typeof latestBenchmark>>;
  sizes: InstanceSizeRow[];
  schedule: ScheduleRow[];
  recommendation: Recommendation;
}

export async function capacityOverview({
  prisma,
  source,
  cpuScale,
  now = Date.now(),
}: CapacityContext): Promise<CapacityOverview> {
  const [settings, sizes, schedule, active] = await Promise.all([
    getCapacitySettings(prisma),
    listInstanceSizes(prisma),
    listSchedule(prisma),
    getActivePolicy(prisma),
  ]);
  const spec = active?.spec ?? PRESETS[DEFAULT_POLICY];
  const policy = {
    name: active?.name ?? DEFAULT_POLICY,
    targetCpuPercent: spec.cpu.scaleUpAtPercent,
    minReplicas: active?.spec?.minReplicas ?? DEFAULT_MIN_REPLICAS,
    maxReplicas: spec.maxReplicas,
  };

  const peakStepSeconds = peakStepFor(settings.lookbackDays * 86_400);
  const lookback = { start: new Date(now - settings.lookbackDays * DAY_MS), end: new Date(now), stepSeconds: peakStepSeconds };
  const fit = {
    start: new Date(now - Math.min(FIT_WINDOW_MS, settings.lookbackDays * DAY_MS)),
    end: new Date(now),
    stepSeconds: 60,
  };
  const [measurements, benchmark] = await Promise.all([
    Promise.all([source.requestRate(lookback), source.requestRateByInstance(fit), source.cpuUtilisation(fit)]).then(
      (series) => ({ series, error: null }),
      // The metrics being unreadable must not take the tables and the settings form down with them.
      (error: unknown) => ({
        series: [[], [], []] as Series[][],
        error: `The measurements could not be read: ${(error as Error).message}`,
      }),
    ),
    latestBenchmark(prisma, settings.instanceSizeId),
  ]);
  const [total, rpsByInstance, cpuByInstance] = measurements.series as [Series[], Series[], Series[]];
  const peak = peakOf(total[0]?.points ?? []);
  const observed = capacityAtTargetCpu(pairLoad(rpsByInstance, cpuByInstance, cpuScale), policy.targetCpuPercent);
  const measured = observed
    ? { requestsPerSecond: observed.requestsPerSecond, source: "observed" as const }
    : benchmark
      ? { requestsPerSecond: benchmark.requestsPerSecond, source: "benchmark" as const }
      : null;
  const recommendation = recommend({
    peakRps: peak?.requestsPerSecond ?? 0,
    safetyFactor: settings.safetyFactor,
    sizes,
    currentSizeId: settings.instanceSizeId,
    measured,
    schedule,
    minimumInstances: policy.minReplicas,
    maximumInstances: { policy: policy.name, replicas: policy.maxReplicas },
  });
  return {
    generatedAt: now,
    settings,
    policy,
    peak,
    peakStepSeconds,
    metricsError: measurements.error,
    observed,
    benchmark,
    sizes,
    schedule,
    recommendation,
  };
}

/** One sample per instance and minute that has both its request rate and its CPU. */
function pairLoad(
  rps: Array<{ name: string; points: Array<{ v: number | null }> }>,
  cpu: Array<{ name: string; points: Array<{ v: number | null }> }>,
  cpuScale: number,
): LoadSample[] {
  const cpuByName = new Map(cpu.map((s) => [s.name, s.points]));
  const samples: LoadSample[] = [];
  for (const series of rps) {
    const cpuPoints = cpuByName.get(series.name);
    if (!cpuPoints) continue;
    series.points.forEach((p, i) => {
      const c = cpuPoints[i]?.v;
      if (p.v !== null && c !== null && c !== undefined) samples.push({ rps: p.v, cpu: c * cpuScale });
    });
  }
  return samples;
}

export interface SimulationReport {
  start: number;
  end: number;
  /** The window's length in minutes. */
  minutes: number;
  /** Minutes with recorded load: the ones replayed and priced. */
  recordedMinutes: number;
  /** The recorded load's resolution (coarser than a minute where the 1-minute rollups were pruned). */
  stepSeconds: number;
  instanceMonthlyCostUsd: number;
  results: SimulationResult[];
}

/** Replays the last `hours` of recorded load through every valid policy (presets first). */
export async function simulateRecordedLoad(
  { prisma, source, cpuScale, now = Date.now() }: CapacityContext,
  hours: number,
): Promise<SimulationReport> {
  const end = Math.floor(now / 60_000) * 60_000;
  const range = { start: new Date(end - hours * 3_600_000), end: new Date(end), stepSeconds: 60 };
  const [rate, cpu, policies, settings, sizes] = await Promise.all([
    source.requestRate(range),
    source.cpuUtilisation(range),
    listPolicies(prisma),
    getCapacitySettings(prisma),
    listInstanceSizes(prisma),
  ]);
  const points = rate[0]?.points ?? [];
  const load = loadFromSeries(points, cpu, cpuScale);
  // The source answers on a coarser grid where the finer rollups were already pruned.
  const stepSeconds = points.length > 1 ? (points[1]!.t - points[0]!.t) / 1_000 : range.stepSeconds;
  const cost = sizes.find((s) => s.id === settings.instanceSizeId)?.monthlyCostUsd ?? sizes[0]?.monthlyCostUsd ?? 0;
  const valid = policies.filter((p) => p.spec !== null).map((p) => ({ name: p.name, spec: p.spec! }));
  return {
    start: range.start.getTime(),
    end,
    minutes: hours * 60,
    recordedMinutes: (load.filter((m) => m.cpuWork !== null).length * stepSeconds) / 60,
    stepSeconds,
    instanceMonthlyCostUsd: cost,
    results: simulatePolicies(valid, load, { instanceMonthlyCostUsd: cost, loadStepSeconds: stepSeconds }),
  };
}
