// The readiness rules on their own, at the edges: the staleness limit, every reason, and an error
// message that quotes a connection string.
import { describe, expect, it } from "vitest";
import { readiness, type ConfigurationFreshness } from "../../lib/platform/health/readiness";
import { InstanceState } from "../../lib/platform/process/lifecycle";

const LIMIT_MS = 300_000;

function started(): InstanceState {
  const state = new InstanceState();
  state.migrationsApplied = true;
  return state;
}

/** The fields readiness reads of a FleetConfig, as given values. */
function configuration(ageMs: number | undefined, lastError?: string): ConfigurationFreshness {
  return { loaded: ageMs !== undefined, lastError, ageMs: () => ageMs };
}

describe("readiness", () => {
  it("is ready with a loaded configuration up to the limit, whatever the database does", () => {
    expect(readiness(started(), configuration(0), LIMIT_MS)).toMatchObject({ ready: true, reasons: [] });
    expect(readiness(started(), configuration(LIMIT_MS, "connect ECONNREFUSED"), LIMIT_MS)).toMatchObject({
      ready: true,
      configuration: { loaded: true, age_ms: LIMIT_MS, stale: false, last_error: "connect ECONNREFUSED" },
    });
  });

  it("is not ready past the limit, saying how old and why", () => {
    const answer = readiness(started(), configuration(LIMIT_MS + 1_500, "connect ECONNREFUSED 10.0.0.5:5432"), LIMIT_MS);
    expect(answer.ready).toBe(false);
    expect(answer.reasons).toEqual([
      "configuration is stale: last confirmed current 302 s ago, limit 300 s; last attempt: connect ECONNREFUSED 10.0.0.5:5432",
    ]);
    expect(answer.configuration).toMatchObject({ stale: true, age_ms: LIMIT_MS + 1_500, max_staleness_ms: LIMIT_MS });
  });

  it("is not ready while starting or draining", () => {
    expect(readiness(new InstanceState(), configuration(undefined), LIMIT_MS)).toMatchObject({
      ready: false,
      reasons: ["migrations are not applied yet", "configuration not loaded yet"],
      configuration: { loaded: false, age_ms: null, stale: false },
    });
    expect(readiness(started(), configuration(undefined), LIMIT_MS).reasons).toEqual(["configuration not loaded yet"]);
    const draining = started();
    draining.draining = true;
    expect(readiness(draining, configuration(10), LIMIT_MS)).toMatchObject({ ready: false, reasons: ["instance is draining"] });
  });

  it("never shows credentials from a driver's error", () => {
    const answer = readiness(
      started(),
      configuration(LIMIT_MS * 2, "getaddrinfo ENOTFOUND for postgresql://app:s3cret@db.internal/app\nstack"),
      LIMIT_MS,
    );
    expect(JSON.stringify(answer)).not.toContain("s3cret");
    expect(answer.configuration.last_error).toBe("getaddrinfo ENOTFOUND for postgresql://***@db.internal/app");
  });
});
