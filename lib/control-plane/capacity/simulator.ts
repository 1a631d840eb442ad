// The policy simulator: replays recorded load (fleet CPU and request rate per step of the rollups:
// a minute, or coarser for long windows) through each policy's HorizontalAutoscaler, deciding every
// 15 s as the HPA controller does, and reports replicas over time, minutes above the CPU target,
// and cost. Pure. Only steps with recorded load count towards the minutes, the averages and the
// cost: a window that holds 25 minutes of data is priced for 25 minutes, not for the window.
//
// The model: the fleet's CPU work (the sum of its instances' utilisation) and its requests are
// what the load demands, whatever the replica count; ready instances share them evenly. A new
// instance serves after `startupSeconds`; until then it is a not-ready pod with no metrics, as a
// starting pod is to the HPA. Memory is not replayed (the load does not determine it), so a
// policy's memory target is left out of the simulation.
import { HorizontalAutoscaler, type PodSample } from "../scaling/hpa";
import { metricSpecs, METRIC_NAMES, toHpaSpec, type PolicySpec } from "../scaling/policies";

export interface LoadMinute {
  /** Start of the step (a minute unless `loadStepSeconds` says otherwise), ms since the epoch. */
  t: number;
  /** Completion requests per second, fleet total; null: no data. */
  rps: number | null;
  /** The fleet's CPU work: the sum of its instances' utilisation (% of the CPU request); null: no data. */
  cpuWork: number | null;
  /** Instances that reported in that step. */
  instances: number;
}

export interface SimulationOptions {
  /** Seconds between decisions (the HPA's sync period). */
  stepSeconds?: number;
  /** Seconds each load entry covers (default 60). */
  loadStepSeconds?: number;
  /** Seconds from a scale-up until the new instance serves. */
  startupSeconds?: number;
  /** One instance's monthly cost. */
  instanceMonthlyCostUsd: number;
  /** A common yardstick across policies: the guide's "CPU > 80%" alert. */
  alertCpuPercent?: number;
}

export interface SimulatedMinute {
  t: number;
  replicas: number;
  /** Average CPU of the ready instances; null where the load has a gap. */
  cpu: number | null;
}

export interface SimulationResult {
  policy: string;
  series: SimulatedMinute[];
  /** Minutes the ready instances averaged above the policy's own scale-up target. */
  minutesAboveTarget: number;
  /** Minutes above the common alert level. */
  minutesAboveAlert: number;
  peakReplicas: number;
  /** Over the replayed minutes. */
  averageReplicas: number;
  /** Instance-minutes over the replayed minutes (steps with recorded load). */
  instanceMinutes: number;
  /** Those instance-minutes priced at the monthly cost (30-day month). */
  costUsd: number;
  /** The same for a 30-day month at this average. */
  monthlyCostUsd: number;
}

const MINUTES_PER_MONTH = 30 * 24 * 60;

export function simulatePolicy(name: string, spec: PolicySpec, load: LoadMinute[], options: SimulationOptions): SimulationResult {
  const step = options.stepSeconds ?? 15;
  const loadStep = options.loadStepSeconds ?? 60;
  const minutesPerEntry = loadStep / 60;
  const startup = options.startupSeconds ?? 30;
  const alert = options.alertCpuPercent ?? 80;
  const hpa = new HorizontalAutoscaler(toHpaSpec(spec));
  const metrics = metricSpecs(spec).filter((m) => m.name !== METRIC_NAMES.memory);
  const firstSeen = load.find((m) => m.instances > 0)?.instances ?? spec.minReplicas;
  // Each instance: when it became (or becomes) ready.
  let pods: number[] = Array.from({ length: clamp(firstSeen, spec.minReplicas, spec.maxReplicas) }, () => -Infinity);
  const series: SimulatedMinute[] = [];
  let aboveTarget = 0;
  let aboveAlert = 0;
  let instanceMinutes = 0;
  let replayedMinutes = 0;

  for (const minute of load) {
    let cpuSum = 0;
    let cpuCount = 0;
    for (let offset = 0; offset < loadStep; offset += step) {
      const now = minute.t + offset * 1000;
      const ready = pods.filter((readyAt) => readyAt <= now).length;
      const share = (total: number | null) => (total === null || ready === 0 ? null : total / ready);
      const cpu = share(minute.cpuWork);
      const rps = share(minute.rps);
      if (cpu !== null) {
        cpuSum += cpu;
        cpuCount++;
      }
      const samples = (value: number | null): PodSample[] =>
        pods.map((readyAt, i) =>
          readyAt <= now ? { name: `p${i}`, ready: true, value } : { name: `p${i}`, ready: false, value: null },
        );
      const decision = hpa.decide(
        now,
        pods.length,
        metrics.map((m) => ({ spec: m, samples: samples(m.name === METRIC_NAMES.cpu ? cpu : rps) })),
      );
      if (decision.desiredReplicas > pods.length)
        pods = [...pods, ...Array.from({ length: decision.desiredReplicas - pods.length }, () => now + startup * 1000)];
      // Scale-in removes the newest first (not-ready ones before serving ones).
      else if (decision.desiredReplicas < pods.length) pods = [...pods].sort((a, b) => a - b).slice(0, decision.desiredReplicas);
    }
    const cpu = cpuCount ? cpuSum / cpuCount : null;
    if (cpu !== null && cpu > spec.cpu.scaleUpAtPercent) aboveTarget += minutesPerEntry;
    if (cpu !== null && cpu > alert) aboveAlert += minutesPerEntry;
    if (minute.cpuWork !== null) {
      replayedMinutes += minutesPerEntry;
      instanceMinutes += pods.length * minutesPerEntry;
    }
    series.push({ t: minute.t, replicas: pods.length, cpu: cpu === null ? null : Math.round(cpu * 10) / 10 });
  }
  const averageReplicas = replayedMinutes ? instanceMinutes / replayedMinutes : 0;
  return {
    policy: name,
    series,
    minutesAboveTarget: aboveTarget,
    minutesAboveAlert: aboveAlert,
    peakReplicas: Math.max(0, ...series.map((s) => s.replicas)),
    averageReplicas: Math.round(averageReplicas * 100) / 100,
    instanceMinutes,
    costUsd: Math.round((instanceMinutes / MINUTES_PER_MONTH) * options.instanceMonthlyCostUsd * 100) / 100,
    monthlyCostUsd: Math.round(averageReplicas * options.instanceMonthlyCostUsd * 100) / 100,
  };
}

/** Every policy over the same load, side by side. */
export function simulatePolicies(
  policies: Array<{ name: string; spec: PolicySpec }>,
  load: LoadMinute[],
  options: SimulationOptions,
): SimulationResult[] {
  return policies.map((p) => simulatePolicy(p.name, p.spec, load, options));
}

/** Per-minute load from the metrics source's series: fleet request rate and per-instance CPU. */
export function loadFromSeries(
  requestRate: Array<{ t: number; v: number | null }>,
  cpuByInstance: Array<{ points: Array<{ t: number; v: number | null }> }>,
  cpuScale = 1,
): LoadMinute[] {
  return requestRate.map((point, i) => {
    let work = 0;
    let instances = 0;
    for (const series of cpuByInstance) {
      const v = series.points[i]?.v;
      if (v === null || v === undefined) continue;
      work += v * cpuScale;
      instances++;
    }
    return { t: point.t, rps: point.v, cpuWork: instances ? work : null, instances };
  });
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}
