// Scaling's part of the process: every instance makes sure the presets exist and a policy is
// active (idempotent), and the leader runs the decision job and samples the batch queue.
import type { SingletonContext } from "../../platform/process/leader-jobs";
import { getMetricsSource } from "../../platform/metrics-history/query";
import { memoryLimitBytes } from "../../platform/metrics/process";
import { readQueueStats } from "../../data-plane/batch/queue-stats";
import { ScalingDecider } from "./decider";
import { registerQueueSampler } from "./queue-sampler";
import { seedPolicies } from "./store";
import { createTarget } from "./targets";

export function registerScalingJobs({ leader, holder, database, config, logger }: SingletonContext): void {
  let seeded = false;
  const seed = async () => {
    const result = await seedPolicies(database.prisma);
    seeded = true;
    if (result.created.length || result.updated.length || result.activated) logger.info(result, "scaling policy presets seeded");
  };
  void seed().then(
    () => {},
    (error: Error) => logger.warn({ err: error.message }, "could not seed the scaling policy presets (the leader retries)"),
  );

  const readQueue = () => readQueueStats(database.pool);
  registerQueueSampler({ leader, logger, readQueue });

  const target = createTarget(config, logger);
  let decider: ScalingDecider | undefined;
  leader.runJob("scaling-decide", config.SCALING_INTERVAL_MS, async (token, signal) => {
    decider ??= new ScalingDecider({
      prisma: database.prisma,
      pool: database.pool,
      target: await target,
      logger,
      staleAfterMs: 3 * config.HEARTBEAT_MS,
      cpuRequestMillicores: config.SCALING_CPU_REQUEST_MILLICORES,
      memoryRequestBytes: config.SCALING_MEMORY_REQUEST_BYTES ?? memoryLimitBytes(),
      metricsSource: getMetricsSource(config, database.pool),
      readQueue,
    });
    if (!seeded) await seed();
    await decider.run({ name: "leader", holder, token }, signal);
  });
}
