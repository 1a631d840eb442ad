// A fresh install works end to end: with no provider at all, two simulator providers and their
// models are created (one instant, one with realistic latency and token rate).
import type { PrismaClient } from "../../platform/db/generated/client";

const SEED_LOCK_KEY = 7_219_451_119;

export async function seedSimulatorIfEmpty(prisma: PrismaClient): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SEED_LOCK_KEY})`;
    if ((await tx.provider.count()) > 0) return false;
    const fast = await tx.provider.create({
      data: {
        name: "simulator-fast",
        kind: "simulator",
        settings: { latencyMs: { median: 0, p99: 0 }, tokensPerSecond: 0, errorRate: 0 },
      },
    });
    const realistic = await tx.provider.create({
      data: {
        name: "simulator-realistic",
        kind: "simulator",
        settings: { latencyMs: { median: 250, p99: 1200 }, tokensPerSecond: 60, errorRate: 0.005 },
      },
    });
    await tx.deployment.createMany({
      data: [
        { modelName: "sim-fast", providerId: fast.id, upstreamModel: "sim-fast" },
        { modelName: "sim-realistic", providerId: realistic.id, upstreamModel: "sim-realistic" },
      ],
    });
    return true;
  });
}
