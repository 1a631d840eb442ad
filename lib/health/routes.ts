// GET /health, /health/live, /health/ready — for load balancers and Kubernetes probes.
// Served by Fastify; never touches Next.js.
import type { FastifyInstance } from "fastify";
import type { InstanceState } from "../lifecycle";
import { readVitals } from "../metrics/vitals";
import type { DependencyStatus } from "./checks";

export interface HealthOptions {
  state: InstanceState;
  instanceId: string;
  version: string;
  /** Named dependency checks; "database" is required for readiness. */
  checks: Record<string, () => Promise<DependencyStatus>>;
}

async function runChecks(checks: HealthOptions["checks"]): Promise<Record<string, DependencyStatus>> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => checks[name]!()));
  return Object.fromEntries(names.map((name, i) => [name, results[i]!]));
}

export async function healthRoutes(app: FastifyInstance, { state, instanceId, version, checks }: HealthOptions) {
  app.get("/health/live", async () => ({ status: "alive" }));

  app.get("/health/ready", async (_request, reply) => {
    const dependencies = await runChecks({ database: checks.database! });
    const reasons: string[] = [];
    if (state.draining) reasons.push("instance is draining");
    if (!state.migrationsApplied) reasons.push("migrations are not applied yet");
    if (dependencies.database!.status !== "up") reasons.push(`database: ${dependencies.database!.error}`);
    const ready = reasons.length === 0;
    return reply.code(ready ? 200 : 503).send({
      status: ready ? "ready" : "not_ready",
      reasons,
      draining: state.draining,
      migrations: state.migrationsApplied ? "applied" : "pending",
      dependencies,
    });
  });

  app.get("/health", async (_request, reply) => {
    const dependencies = await runChecks(checks);
    // Unhealthy: cannot serve at all. Degraded: serving, but a dependency is down or it is
    // draining (the data plane keeps serving from memory while the database is away).
    const anyDown = Object.values(dependencies).some((d) => d.status !== "up");
    const status = !state.migrationsApplied ? "unhealthy" : anyDown || state.draining ? "degraded" : "healthy";
    return reply.code(status === "unhealthy" ? 503 : 200).send({
      status,
      instance_id: instanceId,
      version,
      uptime_seconds: state.uptimeSeconds(),
      draining: state.draining,
      dependencies,
      vitals: { ...readVitals(), in_flight_requests: state.inFlight },
    });
  });
}
