// The Capacity page's endpoints: the recommendation with its inputs (peak, measured capacity,
// safety factor, sizes, schedule), and the admins' edits of those tables (audited).
import "server-only";
import { z } from "zod";
import { actorOf, consoleHandler } from "../console/handler";
import { consoleMetricsSource } from "../console/metrics-source";
import { cpuScale } from "../scaling/console";
import type { CapacityResponse } from "../scaling/contracts";
import { capacityOverview } from "./overview";
import {
  capacitySettingsInput,
  instanceSizesInput,
  replaceInstanceSizes,
  replaceSchedule,
  scheduleInput,
  updateCapacitySettings,
} from "./store";

// GET /api/console/capacity — required instances, the recommendation and what they rest on.
export const getCapacity = consoleHandler({ scope: "metrics.read" }, async ({ prisma }): Promise<CapacityResponse> => {
  const overview = await capacityOverview({ prisma, source: await consoleMetricsSource(), cpuScale: cpuScale() });
  return {
    ...overview,
    settings: { ...overview.settings, updatedAt: overview.settings.updatedAt.toISOString() },
    benchmark: overview.benchmark
      ? {
          id: overview.benchmark.id,
          at: overview.benchmark.at.toISOString(),
          requestsPerSecond: overview.benchmark.requestsPerSecond,
          source: overview.benchmark.source,
          notes: overview.benchmark.notes,
          instanceSizeId: overview.benchmark.instanceSizeId,
        }
      : null,
  };
});

// PUT /api/console/capacity/settings — safety factor, the size the fleet runs on, look-back.
export const putCapacitySettings = consoleHandler(
  { scope: "scaling.write", body: capacitySettingsInput },
  async ({ prisma, body, session }) => {
    const settings = await updateCapacitySettings(prisma, body, actorOf(session));
    return { settings: { ...settings, updatedAt: settings.updatedAt.toISOString() } };
  },
);

// PUT /api/console/capacity/sizes — the instance sizes table, whole.
export const putInstanceSizes = consoleHandler(
  { scope: "scaling.write", body: z.object({ sizes: instanceSizesInput }) },
  async ({ prisma, body, session }) => ({
    sizes: await replaceInstanceSizes(prisma, body.sizes, actorOf(session)),
  }),
);

// PUT /api/console/capacity/schedule — the scaling schedule table, whole.
export const putSchedule = consoleHandler(
  { scope: "scaling.write", body: z.object({ schedule: scheduleInput }) },
  async ({ prisma, body, session }) => ({
    schedule: await replaceSchedule(prisma, body.schedule, actorOf(session)),
  }),
);
