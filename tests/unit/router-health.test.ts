// The console's deployment health view reads what the router reported to the process's registry:
// each deployment's latest failure counted against it, with its reason and time.
import { describe, expect, it } from "vitest";
import { readDeploymentHealth } from "../../lib/console/router-health";
import { circuitState, upstreamLastFailure } from "../../lib/metrics/gateway";

const row = (id: string, provider: string, upstreamModel: string) => ({ id, modelName: "m", upstreamModel, provider: { id: `p-${provider}`, name: provider } });

describe("readDeploymentHealth", () => {
  it("gives each deployment its newest counted failure and when it happened, and none to a deployment that never failed", async () => {
    upstreamLastFailure.set({ deployment: "health-a/gpt-4o", reason: "server_error" }, 1_700_000_000);
    upstreamLastFailure.set({ deployment: "health-a/gpt-4o", reason: "auth_rejected" }, 1_700_000_100);
    upstreamLastFailure.set({ deployment: "health-a/other", reason: "rate_limited" }, 1_700_000_200);
    circuitState.set({ deployment: "health-a/gpt-4o" }, 2);
    const [failing, clean] = await readDeploymentHealth([row("d1", "health-a", "gpt-4o"), row("d2", "health-b", "gpt-4o")]);
    expect(failing).toMatchObject({ deploymentId: "d1", circuit: "open", lastFailure: { reason: "auth_rejected", at: new Date(1_700_000_100_000).toISOString() } });
    expect(clean).toMatchObject({ deploymentId: "d2", circuit: "closed", lastFailure: null });
  });
});
