// What the health endpoints know, for Prometheus: each dependency's state (the same cached checks
// /health runs, so a scrape costs at most one query a second) and the configuration's age against
// the limit at which readiness fails. Alerts on "database unreachable" and "configuration stale"
// read these (deploy/prometheus/alerts.yml): the database cannot report its own absence.
import client from "prom-client";
import type { DependencyStatus } from "../health/checks";
import { metric, registry, scrapedGauge } from "./registry";

let dependencyChecks: Record<string, () => Promise<DependencyStatus>> = {};

metric(
  "agenticorp_dependency_up",
  () =>
    new client.Gauge({
      name: "agenticorp_dependency_up",
      help: "1 while this instance reaches the dependency (database; prometheus when PROMETHEUS_URL is set), 0 while it does not.",
      labelNames: ["dependency"] as const,
      registers: [registry],
      async collect() {
        const names = Object.keys(dependencyChecks);
        const results = await Promise.all(names.map((name) => dependencyChecks[name]!()));
        names.forEach((name, i) => this.set({ dependency: name }, results[i]!.status === "up" ? 1 : 0));
      },
    }),
);

/** Names the checks agenticorp_dependency_up reports (the process wires them at start). */
export function reportDependenciesFrom(checks: Record<string, () => Promise<DependencyStatus>>): void {
  dependencyChecks = checks;
}

const reportConfigAge = scrapedGauge(
  "agenticorp_config_age_seconds",
  "Seconds since this instance last confirmed its configuration (keys, providers, policy) current against the database; since the process started while it never loaded one.",
);

const reportMaxStalenessFrom = scrapedGauge(
  "agenticorp_config_max_staleness_seconds",
  "CONFIG_MAX_STALENESS_MS in seconds: the configuration age at which /health/ready fails.",
);

/** Names where the configuration's age (ms, undefined while never loaded) and its limit are read. */
export function reportConfigAgeFrom(ageMs: () => number | undefined, uptimeMs: () => number, maxStalenessMs: number): void {
  reportConfigAge(() => (ageMs() ?? uptimeMs()) / 1000);
  reportMaxStalenessFrom(() => maxStalenessMs / 1000);
}
