// The HPA's view of the pods, built from the instance registry (vital signs from each heartbeat)
// and the target's list of instances. Mirrors groupPods: a ready pod with fresh vitals counts; a
// starting one is not ready; a draining one is terminating and left out entirely; one whose
// heartbeat is stale has no metrics (missing). Pure.
import type { MetricSpec, PodSample } from "./hpa";
import { METRIC_NAMES } from "./policies";
import type { TargetMember } from "./targets/types";

export interface RegistryInstance {
  id: string;
  status: "healthy" | "draining" | "dead";
  /** Milliseconds since its last heartbeat, by the database's clock. */
  ageMs: number;
  vitals: { cpu_percent?: unknown; rss_bytes?: unknown };
}

export interface SampleOptions {
  /** Vitals older than this are no metrics at all. */
  staleAfterMs: number;
  /** CPU utilisation = usage ÷ request. */
  cpuRequestMillicores: number;
  memoryRequestBytes: number;
  /** Completion requests per second by instance (the metrics source), when a policy targets it. */
  requestsPerSecond?: ReadonlyMap<string, number | null>;
}

/** One pod as the decision saw it (kept with the decision). */
export interface PodView {
  id: string;
  ready: boolean;
  cpu: number | null;
  memory: number | null;
  rps: number | null;
}

const finite = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);
const round = (value: number | null) => (value === null ? null : Math.round(value * 100) / 100);

export function podViews(registry: RegistryInstance[], members: TargetMember[] | null, options: SampleOptions): PodView[] {
  const byId = new Map(registry.map((r) => [r.id, r]));
  const pods: Array<{ id: string; ready: boolean; row: RegistryInstance | undefined }> = members
    ? members
        .filter((m) => m.state !== "draining")
        .map((m) => ({ id: m.id, row: byId.get(m.id), ready: m.state === "ready" && byId.get(m.id)?.status === "healthy" }))
    : registry.filter((r) => r.status === "healthy").map((r) => ({ id: r.id, row: r, ready: true }));
  return pods.map(({ id, ready, row }) => {
    const fresh = row !== undefined && row.status !== "dead" && row.ageMs <= options.staleAfterMs;
    const cpu = fresh ? finite(row.vitals.cpu_percent) : null;
    const rss = fresh ? finite(row.vitals.rss_bytes) : null;
    return {
      id,
      ready,
      cpu: round(cpu === null ? null : (cpu * 1000) / options.cpuRequestMillicores),
      memory: round(rss === null ? null : (100 * rss) / options.memoryRequestBytes),
      rps: round(fresh ? (options.requestsPerSecond?.get(id) ?? null) : null),
    };
  });
}

/** Fleet-wide values for External metrics (null: no data). */
export interface FleetValues {
  queueDepth: number | null;
}

/**
 * The samples of one metric, in the HPA's terms: per pod, or for an External metric the series
 * it reads (one here: the leader's fleet-wide count).
 */
export function samplesFor(metric: MetricSpec, pods: PodView[], fleet: FleetValues = { queueDepth: null }): PodSample[] {
  if (metric.name === METRIC_NAMES.queue)
    return fleet.queueDepth === null ? [] : [{ name: "agenticorp_batch_jobs_queued", ready: true, value: fleet.queueDepth }];
  const pick = (p: PodView) =>
    metric.name === METRIC_NAMES.cpu ? p.cpu : metric.name === METRIC_NAMES.memory ? p.memory : p.rps;
  return pods.map((p) => ({ name: p.id, ready: p.ready, value: pick(p) }));
}
