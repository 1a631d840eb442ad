// The hot-path view of fleet configuration: API keys by hash, models with their deployments, and
// the active scaling policy, all in memory. Rebuilt from PostgreSQL on change; provider clients
// (connection pools) carry over when their row did not change.
import type pg from "pg";
import type { Queryable } from "../../platform/db/client";
import { createLiveProvider, providerVersion, type LiveProvider, type ProviderRow } from "../providers/factory";

export interface ApiKeyEntry {
  id: string;
  name: string;
  rpmLimit: number | null;
  /** Empty: every model. */
  allowedModels: ReadonlySet<string>;
}

export interface DeploymentEntry {
  id: string;
  modelName: string;
  upstreamModel: string;
  weight: number;
  provider: LiveProvider;
  /** Bounded label for metrics: provider name and upstream model. */
  label: string;
}

export interface ActivePolicy {
  id: string;
  name: string;
  spec: unknown;
}

export interface FleetSnapshot {
  keysByHash: ReadonlyMap<string, ApiKeyEntry>;
  models: ReadonlyMap<string, readonly DeploymentEntry[]>;
  providers: ReadonlyMap<string, LiveProvider>;
  activePolicy: ActivePolicy | null;
  loadedAt: Date;
  /** config_version when this was read; undefined before the first load. */
  version: string | undefined;
  /** Providers whose rows could not be turned into clients (bad settings, wrong SECRET). */
  providerErrors: ReadonlyMap<string, string>;
}

export const EMPTY_SNAPSHOT: FleetSnapshot = {
  keysByHash: new Map(),
  models: new Map(),
  providers: new Map(),
  activePolicy: null,
  loadedAt: new Date(0),
  version: undefined,
  providerErrors: new Map(),
};

// One round trip, one consistent view: the statements share an implicit transaction (a simple
// query of several statements) at REPEATABLE READ. Plain SQL because Prisma's query interpreter
// held the event loop for milliseconds per reload, and rows rather than one JSON document because
// pg parses rows as they arrive, in short steps, where one large document is parsed in one.
const SNAPSHOT_SQL = `
  SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;
  SELECT version FROM config_version;
  SELECT id, name, key_hash AS "keyHash", rpm_limit AS "rpmLimit", allowed_models AS "allowedModels" FROM api_keys WHERE revoked_at IS NULL;
  SELECT id, name, kind, base_url AS "baseUrl", api_key_encrypted AS "apiKeyEncrypted", headers_encrypted AS "headersEncrypted", settings, updated_at AS "updatedAt" FROM providers WHERE enabled;
  SELECT id, model_name AS "modelName", provider_id AS "providerId", upstream_model AS "upstreamModel", weight FROM deployments WHERE enabled ORDER BY id;
  SELECT id, name, spec FROM scaling_policies WHERE active LIMIT 1`;

interface KeyRow {
  id: string;
  name: string;
  keyHash: string;
  rpmLimit: number | null;
  allowedModels: string[];
}

interface DeploymentRow {
  id: string;
  modelName: string;
  providerId: string;
  upstreamModel: string;
  weight: number;
}

/** The configuration's version: counted up in the same transaction as every change to it. */
export async function readConfigVersion(pool: Queryable): Promise<string | undefined> {
  const { rows } = await pool.query<{ version: string }>("SELECT version FROM config_version");
  return rows[0]?.version;
}

export async function loadSnapshot(pool: Queryable, secret: string, previous: FleetSnapshot): Promise<FleetSnapshot> {
  const [, versionResult, keyResult, providerResult, deploymentResult, policyResult] = (await pool.query(SNAPSHOT_SQL)) as unknown as pg.QueryResult[];
  const keys = keyResult!.rows as KeyRow[];
  const providerRows = providerResult!.rows as ProviderRow[];
  const deployments = deploymentResult!.rows as DeploymentRow[];
  const policy = (policyResult!.rows[0] as ActivePolicy | undefined) ?? null;

  const providers = new Map<string, LiveProvider>();
  const providerErrors = new Map<string, string>();
  for (const row of providerRows) {
    const old = previous.providers.get(row.id);
    if (old && old.version === providerVersion(row)) {
      providers.set(row.id, old);
      continue;
    }
    try {
      providers.set(row.id, createLiveProvider(row, secret));
    } catch (error) {
      providerErrors.set(row.name, (error as Error).message);
    }
  }

  const models = new Map<string, DeploymentEntry[]>();
  for (const d of deployments) {
    const provider = providers.get(d.providerId);
    if (!provider || d.weight <= 0) continue;
    const entry: DeploymentEntry = {
      id: d.id,
      modelName: d.modelName,
      upstreamModel: d.upstreamModel,
      weight: d.weight,
      provider,
      label: `${provider.name}/${d.upstreamModel}`,
    };
    models.set(d.modelName, [...(models.get(d.modelName) ?? []), entry]);
  }

  return {
    keysByHash: new Map(
      keys.map((k) => [k.keyHash, { id: k.id, name: k.name, rpmLimit: k.rpmLimit, allowedModels: new Set(k.allowedModels) }]),
    ),
    models,
    providers,
    activePolicy: policy,
    loadedAt: new Date(),
    version: (versionResult!.rows[0] as { version?: string } | undefined)?.version,
    providerErrors,
  };
}

/** Clients of providers that were removed or changed; closed after in-flight calls had time to end. */
export function retiredProviders(previous: FleetSnapshot, next: FleetSnapshot): LiveProvider[] {
  return [...previous.providers.values()].filter((p) => next.providers.get(p.id) !== p);
}
