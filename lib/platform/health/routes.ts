// GET /health, /health/live, /health/ready — for load balancers and Kubernetes probes.
// Served by Fastify; never touches Next.js.
import type { FastifyInstance } from "fastify";
import type { InstanceState } from "../process/lifecycle";
import { readVitals } from "../metrics/vitals";
import type { DependencyStatus } from "./checks";
import { configurationView, readiness, type ConfigurationFreshness } from "./readiness";

export interface HealthOptions {
  state: InstanceState;
  instanceId: string;
  version: string;
  /** Named dependency checks, shown on /health; readiness does not follow them. */
  checks: Record<string, () => Promise<DependencyStatus>>;
  configuration: ConfigurationFreshness;
  /** CONFIG_MAX_STALENESS_MS. */
  maxStalenessMs: number;
}

async function runChecks(checks: HealthOptions["checks"]): Promise<Record<string, DependencyStatus>> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => checks[name]!()));
  return Object.fromEntries(names.map((name, i) => [name, results[i]!]));
}

export async function healthRoutes(
  app: FastifyInstance,
  { state, instanceId, version, checks, configuration, maxStalenessMs }: HealthOptions,
) {
  app.get("/health/live", async () => ({ status: "alive" }));

  // No query: answered from memory, so any number of balancers may probe it.
  app.get("/health/ready", async (_request, reply) => {
    const { ready, reasons, configuration: view } = readiness(state, configuration, maxStalenessMs);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? "ready" : "not_ready",
      reasons,
      draining: state.draining,
      migrations: state.migrationsApplied ? "applied" : "pending",
      configuration: view,
    });
  });

  app.get("/health", async (_request, reply) => {
    const dependencies = await runChecks(checks);
    const view = configurationView(configuration, maxStalenessMs);
    // Unhealthy: cannot serve at all. Degraded: serving, but a dependency is down, the
    // configuration is stale, or it is draining (the data plane keeps serving from memory while
    // the database is away).
    const anyDown = Object.values(dependencies).some((d) => d.status !== "up");
    const status =
      !state.migrationsApplied || !view.loaded ? "unhealthy" : anyDown || view.stale || state.draining ? "degraded" : "healthy";
    return reply.code(status === "unhealthy" ? 503 : 200).send({
      status,
      instance_id: instanceId,
      version,
      uptime_seconds: state.uptimeSeconds(),
      draining: state.draining,
      dependencies,
      configuration: view,
      vitals: { ...readVitals(), in_flight_requests: state.inFlight },
    });
  });
}
