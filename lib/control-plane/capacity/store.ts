// Capacity planning's editable tables (settings, instance sizes, the scaling schedule) and the
// measured capacities, each change audited in its transaction.
import { z } from "zod";
import { recordAudit, type Actor } from "../audit/audit";
import type { PrismaClient } from "../../platform/db/generated/client";
import type { InstanceSizeRow, ScheduleRow } from "./planning";

export const capacitySettingsInput = z.object({
  safetyFactor: z.number().min(1, { message: "must be at least 1" }).max(10, { message: "must be at most 10" }),
  instanceSizeId: z.string().trim().min(1).max(64).nullable(),
  lookbackDays: z.number().int().min(1).max(90),
});
export type CapacitySettingsInput = z.infer<typeof capacitySettingsInput>;

export const instanceSizesInput = z
  .array(
    z.object({
      id: z
        .string()
        .trim()
        .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: "must be lowercase letters, digits or dashes" }),
      name: z.string().trim().min(1).max(100),
      cpuCores: z.number().positive().max(1_024),
      memoryGb: z.number().positive().max(65_536),
      requestsPerSecond: z.number().positive({ message: "must be above 0" }).max(10_000_000),
      monthlyCostUsd: z.number().min(0).max(10_000_000),
    }),
  )
  .min(1, { message: "at least one instance size" })
  .max(50)
  .refine((sizes) => new Set(sizes.map((s) => s.id)).size === sizes.length, { message: "instance size ids must be unique" });
export type InstanceSizesInput = z.infer<typeof instanceSizesInput>;

export const scheduleInput = z
  .array(
    z
      .object({
        users: z.string().trim().min(1).max(50),
        // Bounded like the sizes' capacity: PostgreSQL's double precision cannot hold every JSON number.
        rpsFrom: z.number().min(0).max(10_000_000),
        rpsTo: z.number().positive().max(10_000_000).nullable(),
        instancesMin: z.number().int().min(0).max(10_000),
        instancesMax: z.number().int().min(0).max(10_000).nullable(),
        notes: z.string().trim().max(200).default(""),
      })
      .refine((r) => r.rpsTo === null || r.rpsTo > r.rpsFrom, { message: "rpsTo must be above rpsFrom", path: ["rpsTo"] })
      .refine((r) => r.instancesMax === null || r.instancesMax >= r.instancesMin, {
        message: "instancesMax must be at least instancesMin",
        path: ["instancesMax"],
      }),
  )
  .max(50);
export type ScheduleInput = z.input<typeof scheduleInput>;

export interface CapacitySettings extends CapacitySettingsInput {
  updatedAt: Date;
  updatedBy: string | null;
}

export async function getCapacitySettings(prisma: PrismaClient): Promise<CapacitySettings> {
  const row = await prisma.capacitySettings.upsert({ where: { id: 1 }, create: { id: 1 }, update: {} });
  return {
    safetyFactor: row.safetyFactor,
    instanceSizeId: row.instanceSizeId,
    lookbackDays: row.lookbackDays,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
  };
}

export async function updateCapacitySettings(
  prisma: PrismaClient,
  input: CapacitySettingsInput,
  actor: Actor,
): Promise<CapacitySettings> {
  const data = capacitySettingsInput.parse(input);
  return prisma.$transaction(async (tx) => {
    const before = await tx.capacitySettings.upsert({ where: { id: 1 }, create: { id: 1 }, update: {} });
    const after = await tx.capacitySettings.update({ where: { id: 1 }, data: { ...data, updatedBy: actor.email } });
    await recordAudit(tx, actor, {
      action: "capacity.settings.update",
      targetType: "capacity_settings",
      targetId: "1",
      before: { safetyFactor: before.safetyFactor, instanceSizeId: before.instanceSizeId, lookbackDays: before.lookbackDays },
      after: data,
    });
    return { ...data, updatedAt: after.updatedAt, updatedBy: after.updatedBy };
  });
}

export async function listInstanceSizes(prisma: PrismaClient): Promise<InstanceSizeRow[]> {
  const rows = await prisma.instanceSize.findMany({ orderBy: [{ sortOrder: "asc" }, { id: "asc" }] });
  return rows.map(({ sortOrder: _order, ...row }) => row);
}

/** Replaces the whole table (the console edits it as one). */
export async function replaceInstanceSizes(
  prisma: PrismaClient,
  input: InstanceSizesInput,
  actor: Actor,
): Promise<InstanceSizeRow[]> {
  const sizes = instanceSizesInput.parse(input);
  await prisma.$transaction(async (tx) => {
    const before = await tx.instanceSize.findMany({ orderBy: { sortOrder: "asc" } });
    await tx.instanceSize.deleteMany({});
    await tx.instanceSize.createMany({ data: sizes.map((s, i) => ({ ...s, sortOrder: i + 1 })) });
    await recordAudit(tx, actor, { action: "capacity.sizes.update", targetType: "instance_sizes", before, after: sizes });
  });
  return listInstanceSizes(prisma);
}

export async function listSchedule(prisma: PrismaClient): Promise<ScheduleRow[]> {
  const rows = await prisma.scalingScheduleEntry.findMany({ orderBy: [{ rpsFrom: "asc" }, { id: "asc" }] });
  return rows.map(({ id: _id, ...row }) => row);
}

export async function replaceSchedule(prisma: PrismaClient, input: ScheduleInput, actor: Actor): Promise<ScheduleRow[]> {
  const rows = scheduleInput.parse(input);
  await prisma.$transaction(async (tx) => {
    const before = await tx.scalingScheduleEntry.findMany({ orderBy: { rpsFrom: "asc" } });
    await tx.scalingScheduleEntry.deleteMany({});
    await tx.scalingScheduleEntry.createMany({ data: rows });
    await recordAudit(tx, actor, {
      action: "capacity.schedule.update",
      targetType: "scaling_schedule",
      before: before.map(({ id: _id, ...r }) => r),
      after: rows,
    });
  });
  return listSchedule(prisma);
}

export interface BenchmarkInput {
  requestsPerSecond: number;
  cpuPercent?: number | null;
  p95Seconds?: number | null;
  errorRate?: number | null;
  instanceSizeId?: string | null;
  source: string;
  notes?: string;
}

export async function recordBenchmark(prisma: PrismaClient, input: BenchmarkInput) {
  if (!(input.requestsPerSecond > 0)) throw new RangeError("a benchmark needs a throughput above 0");
  const row = await prisma.capacityBenchmark.create({
    data: {
      requestsPerSecond: input.requestsPerSecond,
      cpuPercent: input.cpuPercent ?? null,
      p95Seconds: input.p95Seconds ?? null,
      errorRate: input.errorRate ?? null,
      instanceSizeId: input.instanceSizeId ?? null,
      source: input.source,
      notes: input.notes ?? "",
    },
  });
  return { ...row, id: row.id.toString() };
}

/** The newest benchmark for the size (or for no particular size). */
export async function latestBenchmark(prisma: PrismaClient, instanceSizeId: string | null) {
  const row = await prisma.capacityBenchmark.findFirst({
    where: { OR: [{ instanceSizeId }, { instanceSizeId: null }] },
    orderBy: { id: "desc" },
  });
  return row ? { ...row, id: row.id.toString() } : null;
}
