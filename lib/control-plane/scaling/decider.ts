// The leader's scaling job: every SCALING_INTERVAL_MS it runs the Kubernetes HPA algorithm
// (lib/control-plane/scaling/hpa.ts) over the active policy and the instances' vital signs, writes the decision
// (fenced by the leadership token, so a deposed leader's late decision is refused), and hands it
// to the configured target (none, local, kubernetes).
//
// The controller's memory — recommendations for the stabilization windows, scale events for the
// rate policies — lives in this object and in the stored decisions: a new leader (or this one in
// a new term) starts from the stored ones, so a change of leader neither forgets a scale-down
// window nor lets a second burst past the rate limit.
import type pg from "pg";
import type { Logger } from "pino";
import type { PrismaClient } from "../../platform/db/generated/client";
import { fenceCondition, fenceValues, type Fence } from "../../platform/coordination/lease";
import type { MetricsSource } from "../../platform/metrics-history/query/types";
import { explainDecision } from "./explain";
import { HorizontalAutoscaler, type AutoscalerMemory, type Decision } from "./hpa";
import { metricSpecs, queueDepthTarget, toHpaSpec } from "./policies";
import { readQueueOrNull, type QueueStats, type QueueStatsReader } from "./queue-depth";
import { podViews, samplesFor, type PodView, type RegistryInstance } from "./samples";
import { getActivePolicy } from "./store";
import type { ApplyResult, ScalingTarget } from "./targets/types";

export interface DeciderOptions {
  prisma: PrismaClient;
  pool: pg.Pool;
  target: ScalingTarget;
  logger: Logger;
  /** Vitals older than this are missing metrics (a few heartbeats). */
  staleAfterMs: number;
  cpuRequestMillicores: number;
  memoryRequestBytes: number;
  /** For a requests-per-instance target. */
  metricsSource?: Pick<MetricsSource, "instanceHealth">;
  /** The batch queue, for a queue-depth target (absent: such a target has no data). */
  readQueue?: QueueStatsReader;
  now?: () => number;
}

export interface DecisionRecord {
  id: string;
  at: Date;
  policyName: string;
  target: string;
  currentReplicas: number;
  desiredReplicas: number;
  recommendation: number | null;
  reason: string;
  message: string;
  metrics: DecisionMetrics;
  scaleChange: number;
  outcome: string;
  detail: string | null;
}

export interface DecisionMetrics {
  proposals: Array<{ metric: string; average: number | null; target: number; ratio: number | null; replicas: number }>;
  instances: PodView[];
  metricReplicas: number;
  /** The batch queue when the policy has a queue-depth target (null: it could not be read). */
  queue?: QueueStats | null;
}

/** Reasons after which the HPA records no recommendation (it returns before stabilizing). */
const NO_RECOMMENDATION = new Set(["ScalingDisabled", "AboveMax", "BelowMin", "NoMetrics", "MetricsIncomplete"]);
const MEMORY_WINDOW_MS = 3_600_000;

export class ScalingDecider {
  private hpa: HorizontalAutoscaler | undefined;
  private term: bigint | undefined;
  private lastObservedReplicas: number | undefined;
  private warned = "";
  private readonly now: () => number;

  constructor(private readonly options: DeciderOptions) {
    this.now = options.now ?? Date.now;
  }

  /** One decision. Null when there was nothing to decide on, or the write was refused (deposed). */
  async run(fence: Fence, signal: AbortSignal): Promise<DecisionRecord | null> {
    const { prisma, target, logger } = this.options;
    const policy = await getActivePolicy(prisma);
    if (!policy?.spec) {
      this.warnOnce(
        policy
          ? `scaling policy ${policy.name} is not valid (${policy.error}): no decision`
          : "no active scaling policy yet: no decision",
      );
      return null;
    }
    const spec = policy.spec;
    if (this.term !== fence.token || !this.hpa) {
      this.hpa = new HorizontalAutoscaler(toHpaSpec(spec), await this.storedMemory());
      this.term = fence.token;
      this.lastObservedReplicas = undefined;
    } else {
      // As when an HPA object is edited: new bounds and behaviour, same memory.
      this.hpa.spec = toHpaSpec(spec);
    }

    const observation = await target.observe(signal).catch((error: Error) => {
      this.warnOnce(`scaling target ${target.kind} unreachable: ${error.message}`);
      return null;
    });
    if (!observation || signal.aborted) return null;
    const registry = await this.readRegistry();
    const rps = spec.requestsPerSecondPerInstance !== undefined ? await this.requestsPerSecond() : undefined;
    const queue = queueDepthTarget(spec) !== null ? await this.queue() : undefined;
    const pods = podViews(registry, observation.members, {
      staleAfterMs: this.options.staleAfterMs,
      cpuRequestMillicores: this.options.cpuRequestMillicores,
      memoryRequestBytes: this.options.memoryRequestBytes,
      requestsPerSecond: rps,
    });
    const current = observation.currentReplicas ?? pods.length;
    const now = this.now();

    // Kubernetes scales by itself: its changes are the scale events the twin must remember.
    let observedChange = 0;
    if (target.kind === "kubernetes" && this.lastObservedReplicas !== undefined && current !== this.lastObservedReplicas) {
      observedChange = current - this.lastObservedReplicas;
      this.hpa.recordScale(now, this.lastObservedReplicas, current);
    }
    this.lastObservedReplicas = current;

    const metrics = metricSpecs(spec).map((m) => ({
      spec: m,
      samples: samplesFor(m, pods, { queueDepth: queue?.queued ?? null }),
    }));
    const decision = this.hpa.decide(now, current, metrics, { recordScale: false });
    const message = explainDecision(decision, spec);
    let applied: ApplyResult;
    try {
      applied = await target.apply({ policyName: policy.name, spec, decision }, signal);
    } catch (error) {
      applied = { outcome: "failed", scaleChange: 0, detail: (error as Error).message };
    }
    if (applied.scaleChange !== 0) this.hpa.recordScale(now, current, current + applied.scaleChange);
    if (applied.outcome === "failed")
      logger.warn({ target: target.kind, detail: applied.detail }, "scaling decision not applied");
    else this.warned = "";

    const record = await this.write(
      fence,
      now,
      policy.name,
      decision,
      pods,
      queue,
      applied,
      applied.scaleChange || observedChange,
      message,
    );
    if (record && applied.outcome === "applied") {
      logger.info(
        {
          current: decision.currentReplicas,
          desired: decision.desiredReplicas,
          reason: decision.reason,
          policy: policy.name,
          detail: applied.detail,
        },
        message,
      );
    }
    return record;
  }

  private warnOnce(message: string): void {
    if (this.warned === message) return;
    this.warned = message;
    this.options.logger.warn(message);
  }

  private async readRegistry(): Promise<RegistryInstance[]> {
    const { rows } = await this.options.pool.query<{
      id: string;
      status: RegistryInstance["status"];
      age_ms: number;
      vitals: RegistryInstance["vitals"];
    }>(
      `SELECT id, status::text AS status, (extract(epoch FROM now() - last_seen_at) * 1000)::float8 AS age_ms, vitals
       FROM instances WHERE status <> 'dead' AND role IN ('data_plane', 'both') ORDER BY started_at, id`,
    );
    return rows.map((r) => ({ id: r.id, status: r.status, ageMs: r.age_ms, vitals: r.vitals ?? {} }));
  }

  private async requestsPerSecond(): Promise<Map<string, number | null>> {
    const source = this.options.metricsSource;
    if (!source) return new Map();
    const health = await source.instanceHealth().catch((error: Error) => {
      this.warnOnce(`requests per second unavailable: ${error.message}`);
      return [];
    });
    return new Map(health.map((h) => [h.id, h.requestsPerSecond]));
  }

  private async queue(): Promise<QueueStats | null> {
    const read = this.options.readQueue;
    if (!read) {
      this.warnOnce("the policy has a queue-depth target but this version reads no batch queue: that metric has no data");
      return null;
    }
    return readQueueOrNull(read, (error) => this.warnOnce(`batch queue depth unavailable: ${error.message}`));
  }

  /** The stored decisions of the last hour as the controller's memory. */
  private async storedMemory(): Promise<AutoscalerMemory> {
    const since = new Date(this.now() - MEMORY_WINDOW_MS);
    const rows = await this.options.prisma.scalingDecision.findMany({
      where: { at: { gte: since } },
      select: { at: true, recommendation: true, scaleChange: true },
      orderBy: { id: "asc" },
    });
    return {
      recommendations: rows
        .filter((r) => r.recommendation !== null)
        .map((r) => ({ at: r.at.getTime(), value: r.recommendation! })),
      scaleUpEvents: rows.filter((r) => r.scaleChange > 0).map((r) => ({ at: r.at.getTime(), value: r.scaleChange })),
      scaleDownEvents: rows.filter((r) => r.scaleChange < 0).map((r) => ({ at: r.at.getTime(), value: -r.scaleChange })),
    };
  }

  private async write(
    fence: Fence,
    now: number,
    policyName: string,
    decision: Decision,
    pods: PodView[],
    queue: QueueStats | null | undefined,
    applied: ApplyResult,
    scaleChange: number,
    message: string,
  ): Promise<DecisionRecord | null> {
    const metrics: DecisionMetrics = {
      proposals: decision.proposals.map((p) => ({
        metric: p.metric,
        average: p.currentAverage,
        target: p.target,
        ratio: p.ratio === null ? null : Math.round(p.ratio * 10_000) / 10_000,
        replicas: p.replicas,
      })),
      instances: pods,
      metricReplicas: decision.metricReplicas,
      ...(queue !== undefined ? { queue } : {}),
    };
    const recommendation = NO_RECOMMENDATION.has(decision.reason) ? null : decision.metricReplicas;
    const at = new Date(now);
    const { rows } = await this.options.pool.query<{ id: string }>(
      `INSERT INTO scaling_decisions (at, leader_token, policy_name, target, current_replicas, desired_replicas, recommendation, reason, message, metrics, scale_change, outcome, detail)
       SELECT $4, $3::bigint, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15
       WHERE ${fenceCondition(1)}
       RETURNING id::text`,
      [
        ...fenceValues(fence),
        at,
        policyName,
        this.options.target.kind,
        decision.currentReplicas,
        decision.desiredReplicas,
        recommendation,
        decision.reason,
        message,
        JSON.stringify(metrics),
        scaleChange,
        applied.outcome,
        applied.detail ?? null,
      ],
    );
    if (!rows[0]) return null;
    return {
      id: rows[0].id,
      at,
      policyName,
      target: this.options.target.kind,
      currentReplicas: decision.currentReplicas,
      desiredReplicas: decision.desiredReplicas,
      recommendation,
      reason: decision.reason,
      message,
      metrics,
      scaleChange,
      outcome: applied.outcome,
      detail: applied.detail ?? null,
    };
  }
}
