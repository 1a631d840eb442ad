// Capacity planning, pure: the scaling guide's formula
//   required instances = ceil(peak RPS ÷ per-instance capacity × safety factor)
// with the peak taken from history and the per-instance capacity measured — observed requests per
// second at the policy's CPU target (a straight-line fit of CPU against load), else a stored
// benchmark, else the instance size's nominal figure — and a recommendation across instance sizes.

export interface InstanceSizeRow {
  id: string;
  name: string;
  cpuCores: number;
  memoryGb: number;
  requestsPerSecond: number;
  monthlyCostUsd: number;
}

export interface ScheduleRow {
  users: string;
  rpsFrom: number;
  rpsTo: number | null;
  instancesMin: number;
  instancesMax: number | null;
  notes: string;
}

/** ceil(peak ÷ capacity × safety); at least one instance. */
export function requiredInstances(peakRps: number, perInstanceRps: number, safetyFactor: number): number {
  if (!(perInstanceRps > 0)) throw new RangeError("per-instance capacity must be above 0");
  if (!(safetyFactor >= 1)) throw new RangeError("the safety factor must be at least 1");
  // The epsilon keeps 1000 ÷ 250 × 1.5 at 6, not 7 through a float's last bit.
  return Math.max(1, Math.ceil((Math.max(0, peakRps) / perInstanceRps) * safetyFactor - 1e-9));
}

export interface Peak {
  requestsPerSecond: number;
  at: number;
}

/** The highest value of a series, ignoring gaps. */
export function peakOf(points: Array<{ t: number; v: number | null }>): Peak | null {
  let peak: Peak | null = null;
  for (const p of points)
    if (p.v !== null && (peak === null || p.v > peak.requestsPerSecond)) peak = { requestsPerSecond: p.v, at: p.t };
  return peak;
}

export interface LoadSample {
  /** Completion requests per second of one instance over one step. */
  rps: number;
  /** Its CPU utilisation over the same step (% of the CPU request). */
  cpu: number;
}

export interface ObservedCapacity {
  /** Requests per second one instance serves at the target CPU. */
  requestsPerSecond: number;
  /** CPU at no load, from the fit. */
  idleCpu: number;
  /** CPU per request per second. */
  cpuPerRps: number;
  samples: number;
  /** How well a straight line explains CPU by load (0..1). */
  r2: number;
}

export const MIN_FIT_SAMPLES = 10;

/**
 * Fits cpu = idle + k × rps by least squares over the samples and solves for the target CPU.
 * Null without enough samples under load, or when CPU does not grow with load (r² < 0.5).
 */
export function capacityAtTargetCpu(samples: LoadSample[], targetCpu: number): ObservedCapacity | null {
  const usable = samples.filter((s) => Number.isFinite(s.rps) && Number.isFinite(s.cpu) && s.rps > 0);
  if (usable.length < MIN_FIT_SAMPLES) return null;
  const n = usable.length;
  const meanX = usable.reduce((a, s) => a + s.rps, 0) / n;
  const meanY = usable.reduce((a, s) => a + s.cpu, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const s of usable) {
    sxx += (s.rps - meanX) ** 2;
    sxy += (s.rps - meanX) * (s.cpu - meanY);
    syy += (s.cpu - meanY) ** 2;
  }
  if (sxx === 0 || syy === 0) return null;
  const k = sxy / sxx;
  const idle = meanY - k * meanX;
  const r2 = (sxy * sxy) / (sxx * syy);
  if (!(k > 0) || r2 < 0.5 || idle >= targetCpu) return null;
  return { requestsPerSecond: (targetCpu - idle) / k, idleCpu: idle, cpuPerRps: k, samples: n, r2 };
}

/** The schedule row whose load range holds `rps`. */
export function scheduleFor(rps: number, schedule: ScheduleRow[]): ScheduleRow | null {
  return schedule.find((row) => rps >= row.rpsFrom && (row.rpsTo === null || rps < row.rpsTo)) ?? null;
}

export type CapacitySource = "observed" | "benchmark" | "nominal";

export interface SizeOption {
  size: InstanceSizeRow;
  /** This size's per-instance capacity, calibrated by the measurement on the current size. */
  requestsPerSecond: number;
  instances: number;
  monthlyCostUsd: number;
}

export interface Recommendation {
  peakRps: number;
  safetyFactor: number;
  /** The size the fleet runs on, its measured (or nominal) capacity, and what that needs. */
  current: SizeOption | null;
  capacitySource: CapacitySource;
  options: SizeOption[];
  best: SizeOption | null;
  schedule: ScheduleRow | null;
  /** Set when the plan (the current size, else the cheapest) needs more instances than the active policy may run. */
  aboveMaximum: { policy: string; maxReplicas: number; instances: number } | null;
  summary: string;
}

export interface RecommendInput {
  peakRps: number;
  safetyFactor: number;
  sizes: InstanceSizeRow[];
  currentSizeId: string | null;
  /** A measured per-instance capacity on the current size, and where it comes from. */
  measured: { requestsPerSecond: number; source: "observed" | "benchmark" } | null;
  schedule: ScheduleRow[];
  /** Fewer instances than this are never recommended (the active policy's minimum: availability). */
  minimumInstances: number;
  /** The active policy's maximum: a plan above it cannot be carried out, so it is called out. */
  maximumInstances?: { policy: string; replicas: number };
}

/**
 * For every size: instances = max(minimum, ceil(peak ÷ capacity × safety)) and their monthly
 * cost; the cheapest wins, more instances breaking ties. A measurement on the current size scales
 * every size's nominal capacity by measured ÷ nominal (the sizes are assumed to differ as the
 * table says, the software as measured).
 */
export function recommend(input: RecommendInput): Recommendation {
  const current = input.sizes.find((s) => s.id === input.currentSizeId) ?? null;
  const calibration =
    input.measured && current && current.requestsPerSecond > 0 ? input.measured.requestsPerSecond / current.requestsPerSecond : 1;
  const options = input.sizes
    .filter((size) => size.requestsPerSecond > 0)
    .map((size) => {
      const requestsPerSecond = size.requestsPerSecond * calibration;
      const instances = Math.max(input.minimumInstances, requiredInstances(input.peakRps, requestsPerSecond, input.safetyFactor));
      return { size, requestsPerSecond, instances, monthlyCostUsd: instances * size.monthlyCostUsd };
    });
  // A plan the active policy can carry out comes first (one above its maximum would run short);
  // then the cheapest; a tie goes to more, smaller instances: finer steps, less lost with one.
  const aboveMax = (o: SizeOption) =>
    Number(input.maximumInstances !== undefined && o.instances > input.maximumInstances.replicas);
  const best =
    [...options].sort(
      (a, b) => aboveMax(a) - aboveMax(b) || a.monthlyCostUsd - b.monthlyCostUsd || b.instances - a.instances,
    )[0] ?? null;
  const currentOption = options.find((o) => o.size.id === current?.id) ?? null;
  const schedule = scheduleFor(input.peakRps, input.schedule);
  const source: CapacitySource = input.measured && current ? input.measured.source : "nominal";
  const rps = (v: number) => (v >= 100 ? Math.round(v) : Number(v.toFixed(1)));
  const parts: string[] = [];
  if (currentOption) {
    parts.push(
      `At a peak of ${rps(input.peakRps)} req/s, ${currentOption.size.name.toLowerCase()} instances (${rps(currentOption.requestsPerSecond)} req/s each, ${source}) need ceil(${rps(input.peakRps)} ÷ ${rps(currentOption.requestsPerSecond)} × ${input.safetyFactor}) = ${requiredInstances(input.peakRps, currentOption.requestsPerSecond, input.safetyFactor)}${currentOption.instances > requiredInstances(input.peakRps, currentOption.requestsPerSecond, input.safetyFactor) ? `, raised to the policy minimum of ${input.minimumInstances}` : ""}: $${Math.round(currentOption.monthlyCostUsd)}/month.`,
    );
  }
  if (best)
    parts.push(
      `Cheapest: ${best.instances} × ${best.size.name.toLowerCase()} (${best.size.cpuCores} CPU, ${best.size.memoryGb} GB) at $${Math.round(best.monthlyCostUsd)}/month.`,
    );
  const planned = currentOption ?? best;
  const max = input.maximumInstances;
  const aboveMaximum =
    planned && max && planned.instances > max.replicas
      ? { policy: max.policy, maxReplicas: max.replicas, instances: planned.instances }
      : null;
  if (aboveMaximum) {
    parts.push(
      `That is more than the ${aboveMaximum.policy} policy's maximum of ${aboveMaximum.maxReplicas} instances: at this peak the autoscaler stops at ${aboveMaximum.maxReplicas}, so raise the maximum or use larger instances.`,
    );
  }
  if (schedule) {
    const count = `${schedule.instancesMin}${schedule.instancesMax === null ? "+" : schedule.instancesMax === schedule.instancesMin ? "" : `–${schedule.instancesMax}`}`;
    parts.push(
      `The guide's schedule puts ${rps(input.peakRps)} req/s in "${schedule.notes}" (${count} instance${count === "1" ? "" : "s"}).`,
    );
  }
  return {
    peakRps: input.peakRps,
    safetyFactor: input.safetyFactor,
    current: currentOption,
    capacitySource: source,
    options,
    best,
    schedule,
    aboveMaximum,
    summary: parts.join(" "),
  };
}
