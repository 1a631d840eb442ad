// The hot-path view of fleet configuration: API keys by hash, models with their deployments, and
// the active scaling policy, all in memory. Rebuilt from PostgreSQL on change; provider clients
// (connection pools) carry over when their row did not change.
import type { PrismaClient } from "../db/generated/client";
import { createLiveProvider, providerVersion, type LiveProvider } from "../providers/factory";

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
  /** Providers whose rows could not be turned into clients (bad settings, wrong SECRET). */
  providerErrors: ReadonlyMap<string, string>;
}

export const EMPTY_SNAPSHOT: FleetSnapshot = {
  keysByHash: new Map(),
  models: new Map(),
  providers: new Map(),
  activePolicy: null,
  loadedAt: new Date(0),
  providerErrors: new Map(),
};

export async function loadSnapshot(prisma: PrismaClient, secret: string, previous: FleetSnapshot): Promise<FleetSnapshot> {
  const [keys, providerRows, deployments, policy] = await prisma.$transaction([
    prisma.apiKey.findMany({ where: { revokedAt: null }, select: { id: true, name: true, keyHash: true, rpmLimit: true, allowedModels: true } }),
    prisma.provider.findMany({ where: { enabled: true } }),
    prisma.deployment.findMany({ where: { enabled: true }, orderBy: { id: "asc" } }),
    prisma.scalingPolicy.findFirst({ where: { active: true }, select: { id: true, name: true, spec: true } }),
  ]);

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
    activePolicy: policy ? { id: policy.id, name: policy.name, spec: policy.spec } : null,
    loadedAt: new Date(),
    providerErrors,
  };
}

/** Clients of providers that were removed or changed; closed after in-flight calls had time to end. */
export function retiredProviders(previous: FleetSnapshot, next: FleetSnapshot): LiveProvider[] {
  return [...previous.providers.values()].filter((p) => next.providers.get(p.id) !== p);
}
