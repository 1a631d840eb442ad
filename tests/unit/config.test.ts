import { describe, expect, it } from "vitest";
import { ConfigError, configRefreshMs, parseConfig } from "../../lib/platform/config";

describe("parseConfig", () => {
  it("fills the documented defaults on an empty environment", () => {
    const config = parseConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe("0.0.0.0");
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.embeddedDatabase).toBe(true);
    expect(config.INSTANCE_ID).toMatch(/:3000$/);
    expect(config.DRAIN_TIMEOUT_MS).toBe(30_000);
    expect(config.CONSOLE_ENABLED).toBe(true);
    expect(config.CONFIG_MAX_STALENESS_MS).toBe(300_000);
    expect(config.CACHE_SCOPE).toBe("key");
    expect(parseConfig({ CACHE_SCOPE: "fleet" }).CACHE_SCOPE).toBe("fleet");
    expect(config).toMatchObject({
      CACHE_SHARED_MAX_ROWS: 250_000,
      CACHE_SHARED_MAX_BYTES: 256 * 1_048_576,
      CACHE_SHARED_MAX_ENTRY_BYTES: 65_536,
      CACHE_SHARED_MIN_SIGHTINGS: 1,
      AUDIT_RETENTION_DAYS: 365,
      ALERT_HISTORY_RETENTION_DAYS: 90,
      WORKER_ENABLED: true,
      WORKER_CONCURRENCY: 4,
      BATCH_FILE_MAX_BYTES: 100 * 1_048_576,
      BATCH_JOB_LEASE_MS: 60_000,
      BATCH_POLL_MAX_MS: 30_000,
      BATCH_RETENTION_DAYS: 30,
    });
    expect(parseConfig({ WORKER_ENABLED: "false" }).WORKER_ENABLED).toBe(false);
  });

  it("listens for changes by default; polling checks the version every second unless told otherwise", () => {
    const url = "postgresql://db/x";
    expect(parseConfig({ DATABASE_URL: url, SECRET: "s".repeat(32) }).CONFIG_SYNC).toBe("listen");
    expect(configRefreshMs(parseConfig({ DATABASE_URL: url, SECRET: "s".repeat(32) }))).toBe(10_000);
    expect(configRefreshMs(parseConfig({ DATABASE_URL: url, SECRET: "s".repeat(32), CONFIG_SYNC: "poll" }))).toBe(1_000);
    expect(
      configRefreshMs(parseConfig({ DATABASE_URL: url, SECRET: "s".repeat(32), CONFIG_SYNC: "poll", CONFIG_REFRESH_MS: "2000" })),
    ).toBe(2_000);
    expect(() => parseConfig({ CONFIG_SYNC: "notify" })).toThrow(
      /^Invalid configuration: CONFIG_SYNC must be listen or poll \(got "notify"\)$/,
    );
  });

  it("keeps the default staleness limit at three refresh periods when those are long", () => {
    expect(parseConfig({ CONFIG_REFRESH_MS: "600000" }).CONFIG_MAX_STALENESS_MS).toBe(1_800_000);
    expect(parseConfig({ CONFIG_REFRESH_MS: "600000", CONFIG_MAX_STALENESS_MS: "1200000" }).CONFIG_MAX_STALENESS_MS).toBe(
      1_200_000,
    );
  });

  it.each([
    [{ PORT: "abc" }, /^Invalid configuration: PORT .*\(got "abc"\)$/],
    [{ PORT: "70000" }, /^Invalid configuration: PORT /],
    [
      { DATABASE_URL: "mysql://u:pw@db/x" },
      /^Invalid configuration: DATABASE_URL must be a URL starting with postgres:\/\/ or postgresql:\/\/ \(got \(hidden\)\)$/,
    ],
    [{ PROMETHEUS_URL: "localhost:9090" }, /^Invalid configuration: PROMETHEUS_URL /],
    [{ SECRET: "short" }, /^Invalid configuration: SECRET must be at least 32 characters \(got \(hidden\)\)$/],
    [{ INSTANCE_ID: "has spaces" }, /^Invalid configuration: INSTANCE_ID /],
    [{ CONSOLE_ENABLED: "maybe" }, /^Invalid configuration: CONSOLE_ENABLED must be true or false/],
    [{ CACHE_SCOPE: "team" }, /^Invalid configuration: CACHE_SCOPE must be key or fleet \(got "team"\)$/],
    [{ CACHE_SHARED_MAX_BYTES: "-1" }, /^Invalid configuration: CACHE_SHARED_MAX_BYTES must be a whole number from 0 /],
    [
      { CACHE_SHARED_MIN_SIGHTINGS: "0" },
      /^Invalid configuration: CACHE_SHARED_MIN_SIGHTINGS must be a whole number from 1 to 100 \(got "0"\)$/,
    ],
    [
      { WORKER_CONCURRENCY: "0" },
      /^Invalid configuration: WORKER_CONCURRENCY must be a whole number from 1 to 1000 \(got "0"\)$/,
    ],
    [{ BATCH_FILE_MAX_BYTES: "1k" }, /^Invalid configuration: BATCH_FILE_MAX_BYTES must be a whole number /],
    [{ AUDIT_RETENTION_DAYS: "a year" }, /^Invalid configuration: AUDIT_RETENTION_DAYS must be a whole number /],
    [{ NODE_ENV: "production", DATABASE_URL: "postgresql://db/app" }, /^Invalid configuration: SECRET is required in production/],
    [{ CONFIG_MAX_STALENESS_MS: "500" }, /^Invalid configuration: CONFIG_MAX_STALENESS_MS must be a whole number from 1000 /],
    // Confirmed once a refresh period: a limit under two of them would flap readiness.
    [
      { CONFIG_REFRESH_MS: "10000", CONFIG_MAX_STALENESS_MS: "15000" },
      /^Invalid configuration: CONFIG_MAX_STALENESS_MS must be at least twice the configuration refresh period \(10000 ms\) \(got "15000"\)$/,
    ],
  ])("rejects %j with one line naming the variable", (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    try {
      parseConfig(env);
    } catch (error) {
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("\n");
      expect((error as Error).message).not.toContain("pw");
    }
  });

  it("accepts an external database with a secret in production", () => {
    const config = parseConfig({
      NODE_ENV: "production",
      DATABASE_URL: "postgresql://db/app",
      SECRET: "x".repeat(32),
      PORT: "8080",
    });
    expect(config.embeddedDatabase).toBe(false);
    expect(config.INSTANCE_ID).toMatch(/:8080$/);
  });
});
