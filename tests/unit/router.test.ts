import { describe, expect, it } from "vitest";
import type { DeploymentEntry } from "../../lib/data-plane/fleet-config/snapshot";
import type { LiveProvider } from "../../lib/data-plane/providers/factory";
import { reasonForStatus, UpstreamFailure } from "../../lib/data-plane/providers/types";
import { NoDeploymentAvailable, Router, type CircuitState } from "../../lib/data-plane/gateway/router";
import { clientGone } from "../../lib/data-plane/gateway/upstream-attempt";

function deployment(id: string, weight = 1): DeploymentEntry {
  const provider = { id: `p-${id}`, name: `p-${id}`, kind: "simulator", version: "1" } as unknown as LiveProvider;
  return { id, modelName: "m", upstreamModel: id, weight, provider, label: `p-${id}/${id}` };
}

function clockedRouter(options: ConstructorParameters<typeof Router>[0] = {}, changes: Array<[string, CircuitState]> = []) {
  const clock = { now: 0 };
  let seed = 1;
  const router = new Router(
    {
      backoffBaseMs: 0,
      backoffMaxMs: 0,
      now: () => clock.now,
      random: () => (seed = (seed * 16807) % 2147483647) / 2147483647,
      ...options,
    },
    { onCircuitChange: (d, state) => changes.push([d.id, state]) },
  );
  return { router, clock };
}

const fail = (reason: ConstructorParameters<typeof UpstreamFailure>[0], status: number | null = null) => {
  throw new UpstreamFailure(reason, reason, status);
};

describe("Router", () => {
  it("falls back to the next deployment on retryable failures and reports the attempts", async () => {
    const { router } = clockedRouter();
    const a = deployment("a");
    const b = deployment("b");
    const calls: string[] = [];
    const outcome = await router.run([a, b], async (d) => {
      calls.push(d.id);
      if (calls.length === 1) fail("server_error", 500);
      return d.id;
    });
    expect(calls).toHaveLength(2);
    expect(new Set(calls)).toEqual(new Set(["a", "b"]));
    expect(outcome.attempts).toBe(2);
    expect(outcome.result).toBe(calls[1]);
  });

  it.each(["connect", "timeout_connect", "timeout_first_byte", "timeout_total", "rate_limited", "server_error"] as const)(
    "retries %s",
    async (reason) => {
      const { router } = clockedRouter();
      let n = 0;
      const outcome = await router.run([deployment("a"), deployment("b")], async () => (n++ === 0 ? fail(reason) : "ok"));
      expect(outcome.result).toBe("ok");
    },
  );

  it("does not retry a client error (the request's fault) and does not count it against the deployment", async () => {
    const { router } = clockedRouter({ failureThreshold: 1 });
    const a = deployment("a");
    let calls = 0;
    await expect(router.run([a, deployment("b")], async () => (calls++, fail("client_error", 400)))).rejects.toMatchObject({
      reason: "client_error",
    });
    expect(calls).toBe(1);
    expect(router.healthOf("a").state).toBe("closed");
  });

  it("stops after maxAttempts and throws the last failure", async () => {
    const { router } = clockedRouter({ maxAttempts: 3 });
    let calls = 0;
    await expect(router.run([deployment("a")], async () => (calls++, fail("server_error", 503)))).rejects.toMatchObject({
      reason: "server_error",
    });
    expect(calls).toBe(3);
  });

  it("opens a circuit after repeated failures, skips it during the cooldown, and closes it after a good trial", async () => {
    const changes: Array<[string, CircuitState]> = [];
    const { router, clock } = clockedRouter({ failureThreshold: 3, cooldownMs: 1_000, maxAttempts: 1 }, changes);
    const a = deployment("a");
    const b = deployment("b");
    for (let i = 0; i < 3; i++) await expect(router.run([a], async () => fail("server_error", 500))).rejects.toThrow();
    expect(router.healthOf("a").state).toBe("open");
    // While open, traffic goes to b only.
    const used = new Set<string>();
    for (let i = 0; i < 20; i++) used.add((await router.run([a, b], async (d) => d.id)).result);
    expect(used).toEqual(new Set(["b"]));
    // With only a, the request is refused at once with the time left.
    clock.now = 400;
    const refused = await router.run([a], async () => "x").catch((e) => e);
    expect(refused).toBeInstanceOf(NoDeploymentAvailable);
    expect((refused as NoDeploymentAvailable).retryAfterMs).toBe(600);
    // After the cooldown one trial goes through and closes the circuit.
    clock.now = 1_001;
    expect((await router.run([a], async () => "trial")).result).toBe("trial");
    expect(router.healthOf("a").state).toBe("closed");
    expect(changes).toEqual([
      ["a", "open"],
      ["a", "half_open"],
      ["a", "closed"],
    ]);
  });

  it("re-opens at once when the half-open trial fails", async () => {
    const { router, clock } = clockedRouter({ failureThreshold: 2, cooldownMs: 100, maxAttempts: 1 });
    const a = deployment("a");
    for (let i = 0; i < 2; i++) await router.run([a], async () => fail("connect")).catch(() => {});
    clock.now = 150;
    await router.run([a], async () => fail("connect")).catch(() => {});
    expect(router.healthOf("a").state).toBe("open");
    expect(router.healthOf("a").openedAt).toBe(150);
  });

  it("allows one trial at a time while half-open", async () => {
    const { router, clock } = clockedRouter({ failureThreshold: 1, cooldownMs: 10, maxAttempts: 1 });
    const a = deployment("a");
    await router.run([a], async () => fail("connect")).catch(() => {});
    clock.now = 20;
    let release!: () => void;
    const trial = router.run([a], () => new Promise<string>((resolve) => (release = () => resolve("ok"))));
    await expect(router.run([a], async () => "second")).rejects.toBeInstanceOf(NoDeploymentAvailable);
    release();
    await trial;
  });

  it("spreads load by weight", async () => {
    const { router } = clockedRouter();
    const heavy = deployment("heavy", 3);
    const light = deployment("light", 1);
    const counts = { heavy: 0, light: 0 };
    for (let i = 0; i < 4_000; i++) counts[router.pick([heavy, light], new Set())!.id as "heavy" | "light"]++;
    expect(counts.heavy / counts.light).toBeGreaterThan(2.5);
    expect(counts.heavy / counts.light).toBeLessThan(3.5);
  });

  it("prefers the deployment with fewer calls in flight and lower latency", async () => {
    const { router } = clockedRouter();
    const busy = deployment("busy");
    const idle = deployment("idle");
    router.healthOf("busy").inFlight = 9;
    router.healthOf("busy").latencyEwmaMs = 300;
    let idleCount = 0;
    for (let i = 0; i < 1_000; i++) if (router.pick([busy, idle], new Set())!.id === "idle") idleCount++;
    expect(idleCount).toBeGreaterThan(950);
  });

  describe("whose fault a failure is", () => {
    const untouched = {
      inFlight: 0,
      latencyEwmaMs: null,
      consecutiveFailures: 0,
      state: "closed",
      openedAt: 0,
      trialInFlight: false,
    };

    it("leaves a deployment's health, latency and circuit alone when the client hangs up, and tries nothing more", async () => {
      const { router } = clockedRouter({ failureThreshold: 1 });
      const a = deployment("a");
      let calls = 0;
      for (let i = 0; i < 10; i++) {
        await expect(router.run([a, deployment("b")], async () => (calls++, Promise.reject(clientGone())))).rejects.toMatchObject(
          { reason: "client_gone" },
        );
      }
      expect(calls).toBe(10);
      expect({ ...router.healthOf("a") }).toEqual(untouched);
      // Still callable: the next patient request is served.
      expect((await router.run([a], async () => "served")).result).toBe("served");
    });

    it("frees a half-open trial whose client hung up without deciding, so the next request is the trial", async () => {
      const changes: Array<[string, CircuitState]> = [];
      const { router, clock } = clockedRouter({ failureThreshold: 1, cooldownMs: 100, maxAttempts: 1 }, changes);
      const a = deployment("a");
      await router.run([a], async () => fail("server_error", 500)).catch(() => {});
      clock.now = 150;
      await expect(router.run([a], async () => Promise.reject(clientGone()))).rejects.toMatchObject({ reason: "client_gone" });
      expect(router.healthOf("a")).toMatchObject({
        state: "half_open",
        trialInFlight: false,
        inFlight: 0,
        consecutiveFailures: 1,
      });
      expect((await router.run([a], async () => "trial")).result).toBe("trial");
      expect(changes).toEqual([
        ["a", "open"],
        ["a", "half_open"],
        ["a", "closed"],
      ]);
    });

    it.each([401, 403, 404])(
      "fails over on an upstream %i (our credentials or model), never retries the same deployment, and opens its circuit",
      async (status) => {
        const reason = reasonForStatus(status);
        expect(reason).toBe(status === 404 ? "model_not_found" : "auth_rejected");
        const { router } = clockedRouter({ failureThreshold: 2, maxAttempts: 3 });
        const bad = deployment("bad", 1_000);
        const good = deployment("good", 1);
        const calls: string[] = [];
        const call = async (d: DeploymentEntry) => {
          calls.push(d.id);
          return d.id === "bad" ? fail(reason, status) : d.id;
        };
        // Alone, the bad deployment is tried once: the same answer would come again.
        await expect(router.run([bad], call)).rejects.toMatchObject({ reason, status });
        expect(calls).toEqual(["bad"]);
        // Beside a good one, the request is served by the good one.
        calls.length = 0;
        while (!calls.includes("bad")) expect((await router.run([bad, good], call)).result).toBe("good");
        expect(calls.filter((id) => id === "bad")).toHaveLength(1);
        expect(router.healthOf("bad").state).toBe("open");
        expect(router.healthOf("good").state).toBe("closed");
      },
    );

    it.each([400, 413, 422])("passes an upstream %i on once without blaming the deployment", async (status) => {
      const { router } = clockedRouter({ failureThreshold: 1 });
      let calls = 0;
      for (let i = 0; i < 3; i++) {
        await expect(
          router.run([deployment("a"), deployment("b")], async () => (calls++, fail(reasonForStatus(status), status))),
        ).rejects.toMatchObject({ reason: "client_error", status });
      }
      expect(calls).toBe(3);
      expect(router.healthOf("a")).toMatchObject({ state: "closed", consecutiveFailures: 0, inFlight: 0 });
      expect(router.healthOf("b")).toMatchObject({ state: "closed", consecutiveFailures: 0, inFlight: 0 });
    });

    it("rethrows a fault of the gateway's own as it is, without blaming or retrying the deployment", async () => {
      const { router } = clockedRouter({ failureThreshold: 1 });
      const bug = new TypeError("a bug of ours");
      let calls = 0;
      await expect(router.run([deployment("a"), deployment("b")], async () => (calls++, Promise.reject(bug)))).rejects.toBe(bug);
      expect(calls).toBe(1);
      expect({ ...router.healthOf("a") }).toEqual(untouched);
      expect({ ...router.healthOf("b") }).toEqual(untouched);
    });

    it("counts a stream's failure mid-way against the deployment, and a client leaving mid-stream not at all", async () => {
      const { router } = clockedRouter({ failureThreshold: 2 });
      const a = deployment("a");
      for (let i = 0; i < 5; i++) router.streamEnded(a);
      router.streamEnded(a, new UpstreamFailure("client_gone", "gone"));
      expect(router.healthOf("a")).toMatchObject({ state: "closed", consecutiveFailures: 0 });
      router.streamEnded(a, new UpstreamFailure("protocol", "cut"));
      router.streamEnded(a, new UpstreamFailure("timeout_total", "slow"));
      expect(router.healthOf("a").state).toBe("open");
    });
  });
});
