// The Scaling and Capacity console API: one zod schema per request and response, shared by the
// route handlers (lib/control-plane/scaling/console.ts, lib/control-plane/capacity/console.ts) and the hooks. Client-safe.
import { z } from "zod";
import { RANGES, seriesSchema } from "../console/contracts";
import { queueStatsSchema } from "../console/batch-contracts";
import { policyNameSchema, policySpecSchema } from "./policies";

const isoDate = z.string();

export const scalingQuery = z.object({ range: z.enum(RANGES).default("1h") });

const policyFieldsSchema = z.array(z.tuple([z.string(), z.string()]));

const policyDtoSchema = z.object({
  id: z.string(),
  name: z.string(),
  preset: z.boolean(),
  active: z.boolean(),
  /** Null when the stored spec does not validate. */
  spec: policySpecSchema.nullable(),
  error: z.string().nullable(),
  fields: policyFieldsSchema,
  updatedAt: isoDate,
  /** "file": applied from the configuration file and read-only here. */
  managedBy: z.string().nullable(),
});
export type PolicyDto = z.infer<typeof policyDtoSchema>;

const decisionDtoSchema = z.object({
  id: z.string(),
  at: isoDate,
  policyName: z.string(),
  target: z.string(),
  currentReplicas: z.number(),
  desiredReplicas: z.number(),
  recommendation: z.number().nullable(),
  reason: z.string(),
  message: z.string(),
  outcome: z.string(),
  detail: z.string().nullable(),
  scaleChange: z.number(),
  /** The batch queue the decision read, when the policy has a queue-depth target (null: unreadable). */
  queue: queueStatsSchema.nullable().optional(),
});
export type DecisionDto = z.infer<typeof decisionDtoSchema>;

const policyChangeDtoSchema = z.object({
  id: z.string(),
  at: isoDate,
  policyName: z.string(),
  actor: z.string(),
  reason: z.string().nullable(),
  from: z.string().nullable(),
});
export type PolicyChangeDto = z.infer<typeof policyChangeDtoSchema>;

export const scalingResponse = z.object({
  target: z.enum(["none", "local", "kubernetes"]),
  intervalSeconds: z.number(),
  active: policyDtoSchema.nullable(),
  /** True when the configuration file chooses the active policy: switching it here answers 409. */
  activeFromFile: z.boolean(),
  policies: z.array(policyDtoSchema),
  latest: decisionDtoSchema.nullable(),
  /** Decisions over the range: series "current", "desired" and "recommendation" (the largest per step). */
  history: z.array(seriesSchema),
  start: z.number(),
  end: z.number(),
  stepSeconds: z.number(),
  /** The newest decisions that changed something or failed. */
  recent: z.array(decisionDtoSchema),
  changes: z.array(policyChangeDtoSchema),
  /** The active policy's HorizontalPodAutoscaler, as deploy/kubernetes would have it. */
  hpaManifest: z.string().nullable(),
});
export type ScalingResponse = z.infer<typeof scalingResponse>;

export const activatePolicyInput = z.object({
  name: policyNameSchema,
  reason: z.string().trim().min(1, { message: "say why the policy changes" }).max(500),
});
export type ActivatePolicyInput = z.infer<typeof activatePolicyInput>;

export const activatePolicyResponse = z.object({
  changed: z.boolean(),
  before: z.string().nullable(),
  after: z.string(),
  differences: z.array(z.object({ field: z.string(), before: z.string(), after: z.string() })),
});

export const savePolicyResponse = z.object({ policy: policyDtoSchema });

export const simulationQuery = z.object({ hours: z.coerce.number().int().min(1).max(168).default(24) });

export const simulationResponse = z.object({
  start: z.number(),
  end: z.number(),
  /** The window's length in minutes. */
  minutes: z.number(),
  /** Minutes with recorded load: the ones replayed and priced. */
  recordedMinutes: z.number(),
  /** The recorded load's resolution. */
  stepSeconds: z.number(),
  instanceMonthlyCostUsd: z.number(),
  results: z.array(
    z.object({
      policy: z.string(),
      series: z.array(z.object({ t: z.number(), replicas: z.number(), cpu: z.number().nullable() })),
      minutesAboveTarget: z.number(),
      minutesAboveAlert: z.number(),
      peakReplicas: z.number(),
      averageReplicas: z.number(),
      instanceMinutes: z.number(),
      costUsd: z.number(),
      monthlyCostUsd: z.number(),
    }),
  ),
});
export type SimulationResponse = z.infer<typeof simulationResponse>;

// ---- capacity -----------------------------------------------------------------------------------

const sizeSchema = z.object({
  id: z.string(),
  name: z.string(),
  cpuCores: z.number(),
  memoryGb: z.number(),
  requestsPerSecond: z.number(),
  monthlyCostUsd: z.number(),
});
const scheduleRowSchema = z.object({
  users: z.string(),
  rpsFrom: z.number(),
  rpsTo: z.number().nullable(),
  instancesMin: z.number(),
  instancesMax: z.number().nullable(),
  notes: z.string(),
});
const optionSchema = z.object({
  size: sizeSchema,
  requestsPerSecond: z.number(),
  instances: z.number(),
  monthlyCostUsd: z.number(),
});

export const capacityResponse = z.object({
  generatedAt: z.number(),
  settings: z.object({
    safetyFactor: z.number(),
    instanceSizeId: z.string().nullable(),
    lookbackDays: z.number(),
    updatedAt: isoDate,
    updatedBy: z.string().nullable(),
  }),
  policy: z.object({ name: z.string(), targetCpuPercent: z.number(), minReplicas: z.number(), maxReplicas: z.number() }),
  peak: z.object({ requestsPerSecond: z.number(), at: z.number() }).nullable(),
  /** The peak is the busiest step's average at this resolution (coarser for long look-backs). */
  peakStepSeconds: z.number(),
  /** Why the measurements could not be read; the rest of the page still can be. */
  metricsError: z.string().nullable(),
  observed: z
    .object({ requestsPerSecond: z.number(), idleCpu: z.number(), cpuPerRps: z.number(), samples: z.number(), r2: z.number() })
    .nullable(),
  benchmark: z
    .object({
      id: z.string(),
      at: isoDate,
      requestsPerSecond: z.number(),
      source: z.string(),
      notes: z.string(),
      instanceSizeId: z.string().nullable(),
    })
    .nullable(),
  sizes: z.array(sizeSchema),
  schedule: z.array(scheduleRowSchema),
  recommendation: z.object({
    peakRps: z.number(),
    safetyFactor: z.number(),
    current: optionSchema.nullable(),
    capacitySource: z.enum(["observed", "benchmark", "nominal"]),
    options: z.array(optionSchema),
    best: optionSchema.nullable(),
    schedule: scheduleRowSchema.nullable(),
    aboveMaximum: z.object({ policy: z.string(), maxReplicas: z.number(), instances: z.number() }).nullable(),
    summary: z.string(),
  }),
});
export type CapacityResponse = z.infer<typeof capacityResponse>;
