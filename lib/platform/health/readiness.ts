// Readiness answers one question: can this instance serve completions now? It serves from the
// configuration in its memory, so it is ready once that configuration is loaded and while it is
// recent enough to trust; not before start-up finished, and not while draining. It never follows a
// shared dependency's health: a database blip seen by every instance at once must not take the
// whole fleet out of rotation. A configuration older than the staleness limit does fail it: an
// instance cut off from a database the others still reach would go on ignoring their changes
// (a key revoked, a provider disabled).
import type { InstanceState } from "../process/lifecycle";
import { safeErrorMessage } from "./checks";

/** What readiness reads of the fleet configuration (lib/data-plane/fleet-config/config-sync.ts FleetConfig). */
export interface ConfigurationFreshness {
  /** True once a snapshot was loaded from the database. */
  loaded: boolean;
  lastError: string | undefined;
  /** Milliseconds since the configuration was last confirmed current; undefined while never loaded. */
  ageMs(): number | undefined;
  /** config_version the instance serves from, when known. */
  readonly version?: string;
}

export interface ConfigurationView {
  loaded: boolean;
  age_ms: number | null;
  max_staleness_ms: number;
  stale: boolean;
  /** config_version of the configuration this instance serves from: instances that differ have not all seen a change yet. */
  version?: string;
  last_error?: string;
}

export interface Readiness {
  ready: boolean;
  reasons: string[];
  configuration: ConfigurationView;
}

export function configurationView(configuration: ConfigurationFreshness, maxStalenessMs: number): ConfigurationView {
  const age = configuration.ageMs();
  const lastError = configuration.lastError;
  return {
    loaded: configuration.loaded,
    age_ms: age ?? null,
    max_staleness_ms: maxStalenessMs,
    stale: age !== undefined && age > maxStalenessMs,
    ...(configuration.version !== undefined ? { version: configuration.version } : {}),
    ...(lastError ? { last_error: safeErrorMessage(lastError) } : {}),
  };
}

export function readiness(state: InstanceState, configuration: ConfigurationFreshness, maxStalenessMs: number): Readiness {
  const view = configurationView(configuration, maxStalenessMs);
  const reasons: string[] = [];
  if (state.draining) reasons.push("instance is draining");
  if (!state.migrationsApplied) reasons.push("migrations are not applied yet");
  if (!view.loaded) reasons.push("configuration not loaded yet");
  if (view.stale) {
    const cause = view.last_error ? `; last attempt: ${view.last_error}` : "";
    reasons.push(
      `configuration is stale: last confirmed current ${Math.round(view.age_ms! / 1000)} s ago, limit ${maxStalenessMs / 1000} s${cause}`,
    );
  }
  return { ready: reasons.length === 0, reasons, configuration: view };
}
