// The hot-path view of fleet configuration: API keys by hash, models with their deployments, and
// the active scaling policy, all in memory. Rebuilt from PostgreSQL on change; provider clients
// (connection pools) carry over when their row did not change.
import type pg from "pg";
import type { Queryable } from "../../platform/db/client";
import { createLiveProvider, providerVersion, type LiveProvider, type ProviderRow } from "../providers/factory";
import { DEFAULT_PRICES, type ModelPrice, PriceTable } from "../usage/prices";

export interface ApiKeyEntry {
  id: string;
  name: string;
  rpmLimit: number | null;
  /** Tokens per minute, fleet-wide. */
  tpmLimit: number | null;
  /** Spend budgets in USD per calendar day and month, fleet-wide. */
  budgetDailyUsd: number | null;
  budgetMonthlyUsd: number | null;
  /** Empty: every model. */
  allowedModels: ReadonlySet<string>;
  /** Store the bodies of this key's logged requests (lib/data-plane/request-log). */
  captureBodies: boolean;
}

/** The request log's sampling as admins set it; null: the environment's default. */
export interface RequestLogSettings {
  sampleRate: number | null;
  slowMs: number | null;
}

export interface DeploymentEntry {
  id: string;
  modelName: string;
  upstreamModel: string;
  weight: number;
  provider: LiveProvider;
  /** Bounded label for metrics: provider name and upstream model. */
  label: string;
  /** What its tokens cost; null or unset: unpriced (counted, costing nothing). */
  price?: ModelPrice | null;
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
  /** Prices in force: console rows over the prices file over the defaults. */
  prices: PriceTable;
  /** Per public model, the price a cache hit saved: its first deployment's. */
  modelPrices: ReadonlyMap<string, ModelPrice | null>;
  activePolicy: ActivePolicy | null;
  requestLog: RequestLogSettings | null;
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
  prices: new PriceTable(DEFAULT_PRICES),
  modelPrices: new Map(),
  activePolicy: null,
  requestLog: null,
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
  SELECT id, name, key_hash AS "keyHash", rpm_limit AS "rpmLimit", tpm_limit AS "tpmLimit", budget_daily_usd AS "budgetDailyUsd",
    budget_monthly_usd AS "budgetMonthlyUsd", allowed_models AS "allowedModels", capture_bodies AS "captureBodies" FROM api_keys WHERE revoked_at IS NULL;
  SELECT id, name, kind, base_url AS "baseUrl", api_key_encrypted AS "apiKeyEncrypted", headers_encrypted AS "headersEncrypted", settings, updated_at AS "updatedAt" FROM providers WHERE enabled;
  SELECT id, model_name AS "modelName", provider_id AS "providerId", upstream_model AS "upstreamModel", weight FROM deployments WHERE enabled ORDER BY id;
  SELECT id, name, spec FROM scaling_policies WHERE active LIMIT 1;
  SELECT model, input_per_million AS "inputPerMillion", output_per_million AS "outputPerMillion",
    cached_input_per_million AS "cachedInputPerMillion" FROM model_prices;
  SELECT sample_rate AS "sampleRate", slow_ms AS "slowMs" FROM request_log_settings`;

interface KeyRow {
  id: string;
  name: string;
  keyHash: string;
  rpmLimit: number | null;
  tpmLimit: number | null;
  budgetDailyUsd: number | null;
  budgetMonthlyUsd: number | null;
  allowedModels: string[];
  captureBodies: boolean;
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

/** `filePrices`: the PRICES_FILE layer, read once at start. */
export async function loadSnapshot(
  pool: Queryable,
  secret: string,
  previous: FleetSnapshot,
  filePrices: Readonly<Record<string, ModelPrice>> = {},
): Promise<FleetSnapshot> {
  const [, versionResult, keyResult, providerResult, deploymentResult, policyResult, priceResult, requestLogResult] =
    (await pool.query(SNAPSHOT_SQL)) as unknown as pg.QueryResult[];
  const keys = keyResult!.rows as KeyRow[];
  const providerRows = providerResult!.rows as ProviderRow[];
  const deployments = deploymentResult!.rows as DeploymentRow[];
  const policy = (policyResult!.rows[0] as ActivePolicy | undefined) ?? null;
  const requestLog = (requestLogResult!.rows[0] as RequestLogSettings | undefined) ?? null;
  const prices = new PriceTable(
    DEFAULT_PRICES,
    filePrices,
    new Map((priceResult!.rows as Array<ModelPrice & { model: string }>).map(({ model, ...p }) => [model, p])),
  );

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
      price: prices.forDeployment(d.modelName, d.upstreamModel),
    };
    models.set(d.modelName, [...(models.get(d.modelName) ?? []), entry]);
  }

  return {
    keysByHash: new Map(
      keys.map((k) => [
        k.keyHash,
        {
          id: k.id,
          name: k.name,
          rpmLimit: k.rpmLimit,
          tpmLimit: k.tpmLimit,
          budgetDailyUsd: k.budgetDailyUsd,
          budgetMonthlyUsd: k.budgetMonthlyUsd,
          allowedModels: new Set(k.allowedModels),
          captureBodies: k.captureBodies,
        },
      ]),
    ),
    models,
    providers,
    prices,
    modelPrices: new Map([...models].map(([name, list]) => [name, list[0]?.price ?? prices.lookup(name)])),
    activePolicy: policy,
    requestLog,
    loadedAt: new Date(),
    version: (versionResult!.rows[0] as { version?: string } | undefined)?.version,
    providerErrors,
  };
}

/** Clients of providers that were removed or changed; closed after in-flight calls had time to end. */
export function retiredProviders(previous: FleetSnapshot, next: FleetSnapshot): LiveProvider[] {
  return [...previous.providers.values()].filter((p) => next.providers.get(p.id) !== p);
}
