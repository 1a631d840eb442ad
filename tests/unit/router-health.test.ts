// What the router reports about each deployment for the console's provider health (carried by
// the heartbeat): attempts, failures counted against it, requests its circuit refused, the last
// failure as a fixed reason word and status, never the upstream's text.
import { describe, expect, it } from "vitest";
import type { DeploymentEntry } from "../../lib/data-plane/fleet-config/snapshot";
import { deploymentReportsSchema, reportDeployments } from "../../lib/data-plane/gateway/health-report";
import { Router } from "../../lib/data-plane/gateway/router";
import type { LiveProvider } from "../../lib/data-plane/providers/factory";
import { UpstreamFailure } from "../../lib/data-plane/providers/types";

function deployment(id: string): DeploymentEntry {
  const provider = { id: `p-${id}`, name: `p-${id}`, kind: "simulator", version: "1" } as unknown as LiveProvider;
  return { id, modelName: "m", upstreamModel: id, weight: 1, provider, label: `p-${id}/${id}` };
}

const failing = (reason: ConstructorParameters<typeof UpstreamFailure>[0], status: number | null) => async () => {
  throw new UpstreamFailure(reason, `${reason}: upstream said something private`, status);
};

function clocked(options: Partial<Router["options"]> = {}) {
  const clock = { now: 0, wall: Date.parse("2026-12-04T09:00:00.000Z") };
  const router = new Router({
    maxAttempts: 1,
    failureThreshold: 2,
    cooldownMs: 1_000,
    backoffBaseMs: 0,
    backoffMaxMs: 0,
    now: () => clock.now,
    wallClock: () => clock.wall,
    ...options,
  });
  return { router, clock };
}

describe("reportDeployments", () => {
  it("counts attempts and failures, and a client's own error as an answer, not a failure", async () => {
    const { router, clock } = clocked();
    const a = deployment("a");
    await router.run([a], async () => ((clock.now += 10), "ok"));
    await router.run([a], failing("client_error", 400)).catch(() => undefined);
    clock.wall += 1_000;
    await router.run([a], failing("rate_limited", 429)).catch(() => undefined);
    const report = reportDeployments(router).a!;
    expect(report).toEqual({
      circuit: "closed",
      attempts: 3,
      failures: 1,
      refused_by_circuit: 0,
      answered: 2,
      answered_ms: 10,
      last_failure: { reason: "rate_limited", status: 429, at: Date.parse("2026-12-04T09:00:01.000Z") },
    });
    expect(JSON.stringify(reportDeployments(router))).not.toContain("private");
    expect(deploymentReportsSchema.parse(JSON.parse(JSON.stringify(reportDeployments(router))))).toEqual(
      reportDeployments(router),
    );
  });

  it("counts each request an open circuit keeps away once, however many attempts it makes, and the taken half-open trial too", async () => {
    const { router, clock } = clocked({ maxAttempts: 3, failureThreshold: 3 });
    const a = deployment("a");
    const b = deployment("b");
    await router.run([a], failing("server_error", 503)).catch(() => undefined);
    expect(reportDeployments(router).a).toMatchObject({ circuit: "open", attempts: 3, failures: 3 });
    // Three attempts per request on b while a is open: a's refusals count requests, not attempts.
    for (let i = 0; i < 2; i++) {
      let tries = 0;
      await router.run([a, b], async () => (++tries < 3 ? failing("server_error", 503)() : "ok"));
    }
    for (let i = 0; i < 2; i++) await router.run([a, b], async () => "ok");
    expect(reportDeployments(router).a!.refused_by_circuit).toBe(4);
    expect(reportDeployments(router).b).toMatchObject({ attempts: 8, failures: 4, circuit: "closed" });

    // After the cooldown one trial goes through; requests meanwhile are refused by the taken trial slot.
    clock.now += 1_000;
    let release!: () => void;
    const trial = router.run([a], () => new Promise<string>((resolve) => (release = () => resolve("ok"))));
    await router.run([a, b], async () => "ok");
    expect(reportDeployments(router).a).toMatchObject({ circuit: "half_open", refused_by_circuit: 5 });
    release();
    await trial;
    expect(reportDeployments(router).a).toMatchObject({ circuit: "closed", attempts: 4, failures: 3 });
  });

  it("counts a stream that fails after its first byte against the deployment", async () => {
    const { router } = clocked();
    const a = deployment("a");
    await router.run([a], async () => "first byte");
    router.streamEnded(a, new UpstreamFailure("server_error", "mid-stream", null));
    router.streamEnded(a);
    expect(reportDeployments(router).a).toMatchObject({
      attempts: 1,
      failures: 1,
      last_failure: { reason: "server_error", status: null },
    });
  });
});
