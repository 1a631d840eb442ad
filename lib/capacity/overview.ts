// What the Capacity page and the policy simulator show, gathered from the metrics source (peak,
// observed capacity, recorded load), the capacity tables and the scaling policies.
import type { PrismaClient } from "../db/generated/client";
import type { MetricsSource } from "../metrics/query/types";
import { DEFAULT_MIN_REPLICAS } from "../alerts/policy";
import { getActivePolicy, listPolicies } from "../scaling/store";
import { PRESETS, DEFAULT_POLICY } from "../scaling/policies";
import { capacityAtTargetCpu, peakOf, recommend, type InstanceSizeRow, type LoadSample, type ObservedCapacity, type Peak, type Recommendation, type ScheduleRow } from "./planning";
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

export interface CapacityOverview {
  generatedAt: number;
  settings: CapacitySettings;
  policy: { name: string; targetCpuPercent: number; minReplicas: number };
  peak: Peak | null;
  observed: ObservedCapacity | null;
  benchmark: Awaited<ReturnType<typeof latestBenchmark>>;
  sizes: InstanceSizeRow[];
  schedule: ScheduleRow[];
  recommendation: Recommendation;
}

export async function capacityOverview({ prisma, source, cpuScale, now = Date.now() }: CapacityContext): Promise<CapacityOverview> {
  const [settings, sizes, schedule, active] = await Promise.all([getCapacitySettings(prisma), listInstanceSizes(prisma), listSchedule(prisma), getActivePolicy(prisma)]);
  const spec = active?.spec ?? PRESETS[DEFAULT_POLICY];
  const policy = { name: active?.name ?? DEFAULT_POLICY, targetCpuPercent: spec.cpu.scaleUpAtPercent, minReplicas: active?.spec?.minReplicas ?? DEFAULT_MIN_REPLICAS };

  const lookback = { start: new Date(now - settings.lookbackDays * DAY_MS), end: new Date(now), stepSeconds: 60 };
  const fit = { start: new Date(now - Math.min(FIT_WINDOW_MS, settings.lookbackDays * DAY_MS)), end: new Date(now), stepSeconds: 60 };
  const [total, rpsByInstance, cpuByInstance, benchmark] = await Promise.all([
    source.requestRate(lookback),
    source.requestRateByInstance(fit),
    source.cpuUtilisation(fit),
    latestBenchmark(prisma, settings.instanceSizeId),
  ]);
  const peak = peakOf(total[0]?.points ?? []);
  const observed = capacityAtTargetCpu(pairLoad(rpsByInstance, cpuByInstance, cpuScale), policy.targetCpuPercent);
  const measured = observed ? { requestsPerSecond: observed.requestsPerSecond, source: "observed" as const } : benchmark ? { requestsPerSecond: benchmark.requestsPerSecond, source: "benchmark" as const } : null;
  const recommendation = recommend({
    peakRps: peak?.requestsPerSecond ?? 0,
    safetyFactor: settings.safetyFactor,
    sizes,
    currentSizeId: settings.instanceSizeId,
    measured,
    schedule,
    minimumInstances: policy.minReplicas,
  });
  return { generatedAt: now, settings, policy, peak, observed, benchmark, sizes, schedule, recommendation };
}

/** One sample per instance and minute that has both its request rate and its CPU. */
export function pairLoad(rps: Array<{ name: string; points: Array<{ v: number | null }> }>, cpu: Array<{ name: string; points: Array<{ v: number | null }> }>, cpuScale: number): LoadSample[] {
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
  minutes: number;
  /** Minutes with recorded load. */
  recordedMinutes: number;
  instanceMonthlyCostUsd: number;
  results: SimulationResult[];
}

/** Replays the last `hours` of recorded load through every valid policy (presets first). */
export async function simulateRecordedLoad({ prisma, source, cpuScale, now = Date.now() }: CapacityContext, hours: number): Promise<SimulationReport> {
  const end = Math.floor(now / 60_000) * 60_000;
  const range = { start: new Date(end - hours * 3_600_000), end: new Date(end), stepSeconds: 60 };
  const [rate, cpu, policies, settings, sizes] = await Promise.all([source.requestRate(range), source.cpuUtilisation(range), listPolicies(prisma), getCapacitySettings(prisma), listInstanceSizes(prisma)]);
  const load = loadFromSeries(rate[0]?.points ?? [], cpu, cpuScale);
  const cost = sizes.find((s) => s.id === settings.instanceSizeId)?.monthlyCostUsd ?? sizes[0]?.monthlyCostUsd ?? 0;
  const valid = policies.filter((p) => p.spec !== null).map((p) => ({ name: p.name, spec: p.spec! }));
  return {
    start: range.start.getTime(),
    end,
    minutes: load.length,
    recordedMinutes: load.filter((m) => m.cpuWork !== null).length,
    instanceMonthlyCostUsd: cost,
    results: simulatePolicies(valid, load, { instanceMonthlyCostUsd: cost }),
  };
}
