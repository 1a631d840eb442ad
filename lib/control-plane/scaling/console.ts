// The Scaling page's endpoints: the active policy and the others, the leader's decisions (latest,
// over time, the recent changes), the policy history, the HPA the active policy renders to; saving
// a custom policy, deleting one and switching the active one (admins, audited); the policy simulator.
import "server-only";
import { Prisma, type PrismaClient } from "../../platform/db/generated/client";
import { getConfig } from "../../platform/config";
import { actorOf, consoleHandler } from "../console/handler";
import { consoleMetricsSource } from "../console/metrics-source";
import { timeWindowFor } from "../console/ranges";
import { idParams, type SeriesDto } from "../console/contracts";
import { simulateRecordedLoad } from "../capacity/overview";
import { renderManifests, toYaml } from "./manifests";
import { diffPolicies, policyFields, savePolicyInput } from "./policies";
import {
  activatePolicy,
  activePolicyFromFile,
  deletePolicy,
  listPolicies,
  listPolicyChanges,
  savePolicy,
  type StoredPolicy,
} from "./store";
import { queueStatsSchema } from "../console/batch-contracts";
import {
  activatePolicyInput,
  scalingQuery,
  simulationQuery,
  type DecisionDto,
  type PolicyDto,
  type ScalingResponse,
} from "./contracts";

function toPolicyDto(policy: StoredPolicy): PolicyDto {
  return { ...policy, fields: policy.spec ? policyFields(policy.spec) : [], updatedAt: policy.updatedAt.toISOString() };
}

type DecisionRow = Awaited<ReturnType<PrismaClient["scalingDecision"]["findFirst"]>> & {};

function toDecisionDto(row: NonNullable<DecisionRow>): DecisionDto {
  return {
    id: row.id.toString(),
    at: row.at.toISOString(),
    policyName: row.policyName,
    target: row.target,
    currentReplicas: row.currentReplicas,
    desiredReplicas: row.desiredReplicas,
    recommendation: row.recommendation,
    reason: row.reason,
    message: row.message,
    outcome: row.outcome,
    detail: row.detail,
    scaleChange: row.scaleChange,
    ...decisionQueue(row.metrics),
  };
}

/** The queue a decision read (kept in its metrics), when its policy had a queue-depth target. */
function decisionQueue(metrics: unknown): Pick<DecisionDto, "queue"> {
  const parsed = queueStatsSchema.nullable().safeParse((metrics as { queue?: unknown } | null)?.queue);
  return metrics && typeof metrics === "object" && "queue" in metrics && parsed.success ? { queue: parsed.data } : {};
}

/** CPU as policies count it (% of the request) from the metrics' % of one core. */
export function cpuScale(): number {
  return 1_000 / getConfig().SCALING_CPU_REQUEST_MILLICORES;
}

/**
 * Decisions per step of the window: the largest current, desired and recommended count of each.
 * The window runs to now, its last step partial: the decisions of the current step are the ones
 * the Decision panel shows, and the chart must not say there are none.
 */
async function decisionHistory(
  prisma: PrismaClient,
  window: { start: Date; end: Date; stepSeconds: number },
): Promise<SeriesDto[]> {
  const stepMs = window.stepSeconds * 1_000;
  const count = Math.ceil((window.end.getTime() - window.start.getTime()) / stepMs);
  const rows = await prisma.$queryRaw<
    Array<{ i: number; current: number; desired: number; recommendation: number | null }>
  >(Prisma.sql`
    SELECT floor((extract(epoch FROM at) * 1000 - ${window.start.getTime()}::float8) / ${stepMs}::float8)::int AS i,
           max(current_replicas)::int AS current, max(desired_replicas)::int AS desired, max(recommendation)::int AS recommendation
    FROM scaling_decisions WHERE at >= ${window.start} AND at < ${window.end}
    GROUP BY 1`);
  const byStep = new Map(rows.map((r) => [r.i, r]));
  const series = (name: string, pick: (r: (typeof rows)[number]) => number | null): SeriesDto => ({
    name,
    points: Array.from({ length: count }, (_, i) => {
      const row = byStep.get(i);
      return { t: window.start.getTime() + i * stepMs, v: row ? pick(row) : null };
    }),
  });
  return [
    series("current", (r) => r.current),
    series("desired", (r) => r.desired),
    series("recommendation", (r) => r.recommendation),
  ];
}

// GET /api/console/scaling?range= — the policies, the decisions and the active policy's HPA.
export const getScaling = consoleHandler(
  { scope: "scaling.read", query: scalingQuery },
  async ({ prisma, query }): Promise<ScalingResponse> => {
    const config = getConfig();
    const now = Date.now();
    const window = { ...timeWindowFor(query.range, now), end: new Date(now) };
    const [policies, latest, history, recent, changes, activeFromFile] = await Promise.all([
      listPolicies(prisma),
      prisma.scalingDecision.findFirst({ orderBy: { id: "desc" } }),
      decisionHistory(prisma, window),
      prisma.scalingDecision.findMany({
        where: { OR: [{ outcome: { in: ["applied", "failed"] } }, { scaleChange: { not: 0 } }] },
        orderBy: { id: "desc" },
        take: 20,
      }),
      listPolicyChanges(prisma, 20),
      activePolicyFromFile(prisma),
    ]);
    const active = policies.find((p) => p.active) ?? null;
    const hpa = active?.spec
      ? renderManifests({ policyName: active.name, spec: active.spec }).find((m) => m.kind === "HorizontalPodAutoscaler")
      : undefined;
    return {
      target: config.SCALING_TARGET,
      intervalSeconds: config.SCALING_INTERVAL_MS / 1_000,
      active: active ? toPolicyDto(active) : null,
      activeFromFile,
      policies: policies.map(toPolicyDto),
      latest: latest ? toDecisionDto(latest) : null,
      history,
      start: window.start.getTime(),
      end: window.end.getTime(),
      stepSeconds: window.stepSeconds,
      recent: recent.map(toDecisionDto),
      changes: changes.map((c) => ({
        id: c.id,
        at: c.at.toISOString(),
        policyName: c.policyName,
        actor: c.actor,
        reason: c.reason,
        from: (c.before as { name?: string } | null)?.name ?? null,
      })),
      hpaManifest: hpa ? toYaml([hpa]) : null,
    };
  },
);

// POST /api/console/scaling/policies — save a custom policy (validated; presets are read-only).
export const saveScalingPolicy = consoleHandler(
  { scope: "scaling.write", body: savePolicyInput, status: 201 },
  async ({ prisma, body, session }) => ({
    policy: toPolicyDto(await savePolicy(prisma, body, actorOf(session))),
  }),
);

// PUT /api/console/scaling/active — switch the active policy, with a reason; every instance follows within ~1 s.
export const activateScalingPolicy = consoleHandler(
  { scope: "scaling.write", body: activatePolicyInput },
  async ({ prisma, body, session }) => {
    const result = await activatePolicy(prisma, body.name, actorOf(session), body.reason);
    return {
      changed: result.changed,
      before: result.before?.name ?? null,
      after: result.after.name,
      differences: result.changed && result.after.spec ? diffPolicies(result.before?.spec ?? null, result.after.spec) : [],
    };
  },
);

// GET /api/console/scaling/simulation?hours= — the recorded load replayed through every policy.
export const getScalingSimulation = consoleHandler({ scope: "scaling.read", query: simulationQuery }, async ({ prisma, query }) =>
  simulateRecordedLoad({ prisma, source: await consoleMetricsSource(), cpuScale: cpuScale() }, query.hours),
);

// DELETE /api/console/scaling/policies/:id — delete a custom policy (not a preset, not the active one: 409).
export const deleteScalingPolicy = consoleHandler(
  { scope: "scaling.write", params: idParams },
  async ({ prisma, params, session }) => ({
    policy: toPolicyDto(await deletePolicy(prisma, params.id, actorOf(session))),
  }),
);
