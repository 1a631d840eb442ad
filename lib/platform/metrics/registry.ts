// One prom-client registry per process (on globalThis: Next.js bundles its own copy of modules),
// with the process defaults. Every agenticorp_ metric is defined in lib/platform/metrics/*.ts against it.
import client from "prom-client";

const holder = globalThis as typeof globalThis & { __agenticorpRegistry?: client.Registry };

function createRegistry(): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool
  // check metrics rejects them); their per-type gauges (nodejs_active_handles{type}, ...) stay
  // and sum to the same value.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
    registry.removeSingleMetric(name);
  }
  return registry;
}

export const registry: client.Registry = (holder.__agenticorpRegistry ??= createRegistry());

/** Returns the metric already registered under `name`, or registers the one `create` makes. */
export function metric<T extends client.Metric>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/**
 * A gauge whose value is read when Prometheus scrapes, from a source named later (the process
 * wires it at start). Returns the function that names the source; until then it reports `initial`.
 */
export function scrapedGauge(name: string, help: string, initial = 0): (read: () => number) => void {
  let read: () => number = () => initial;
  metric(
    name,
    () =>
      new client.Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(read());
        },
      }),
  );
  return (source) => {
    read = source;
  };
}
