// The instances' Deployments. One program, three roles: `all` (the single-Deployment layout: data
// plane and console in every pod), `data-plane` (CONSOLE_ENABLED=false, scaled by the HPA) and
// `console` (a fixed replica count: the console does not scale with traffic).
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IResourceRequirements } from "kubernetes-models/v1/ResourceRequirements";
import { parseQuantity } from "./quantity";

export const APP = "agenticorp";
/** The HPA's name (the scaling guide's), which the `kubernetes` target patches by default. */
export const HPA_NAME = `${APP}-hpa`;

export type InstanceRole = "all" | "data-plane" | "console";

/** Every option with its value: what the builders below read. */
export interface ResolvedOptions {
  namespace: string;
  image: string;
  port: number;
  drainTimeoutMs: number;
  preStopSeconds: number;
  secretName: string;
  consoleReplicas: number;
  /** TRUSTED_PROXIES for the console behind the Ingress (sign-in throttling counts by client address). */
  trustedProxies: string;
}

/** The guide's per-instance resources: what the data plane's CPU utilisation is measured against. */
export const DATA_PLANE_RESOURCES = {
  requests: { cpu: "500m", memory: "1Gi" },
  limits: { cpu: "2000m", memory: "2Gi" },
} as const satisfies IResourceRequirements;
/** The console serves a few operators: Next.js idles near 200 MB and peaks near 400 MB. */
export const CONSOLE_RESOURCES = {
  requests: { cpu: "250m", memory: "512Mi" },
  limits: { cpu: "1000m", memory: "1Gi" },
} as const satisfies IResourceRequirements;

/** After SIGTERM an instance drains for up to DRAIN_TIMEOUT_MS, then deregisters and closes its pool. */
const SHUTDOWN_MARGIN_SECONDS = 10;

/** preStop + drain + margin: Kubernetes must not SIGKILL an instance that is still draining. */
export function terminationGracePeriodSeconds(options: Pick<ResolvedOptions, "preStopSeconds" | "drainTimeoutMs">): number {
  return options.preStopSeconds + Math.ceil(options.drainTimeoutMs / 1000) + SHUTDOWN_MARGIN_SECONDS;
}

export const baseLabels = { "app.kubernetes.io/name": APP, app: APP };

/** The name of a role's Deployment, Service and PodDisruptionBudget. */
export function roleName(role: InstanceRole): string {
  return role === "all" ? APP : `${APP}-${role}`;
}

/** The labels that pick a role's pods (the single layout keeps its original selector). */
export function roleSelector(role: InstanceRole): Record<string, string> {
  return role === "all"
    ? { "app.kubernetes.io/name": APP }
    : { "app.kubernetes.io/name": APP, "app.kubernetes.io/component": role };
}

export function roleLabels(role: InstanceRole): Record<string, string> {
  return { ...baseLabels, ...roleSelector(role) };
}

export function secretEnv(name: string, secretName: string, key: string, optional = false): IEnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key, ...(optional ? { optional: true } : {}) } } };
}

/**
 * Whatever pod leads runs the scaling decision for the data plane, so every role measures
 * utilisation against the data plane's requests: its own container's where it is the data plane,
 * the same numbers written out on the console.
 */
function scalingRequestEnv(role: InstanceRole): IEnvVar[] {
  if (role === "console") {
    return [
      {
        name: "SCALING_CPU_REQUEST_MILLICORES",
        value: String(Math.round(parseQuantity(DATA_PLANE_RESOURCES.requests.cpu) * 1000)),
      },
      { name: "SCALING_MEMORY_REQUEST_BYTES", value: String(parseQuantity(DATA_PLANE_RESOURCES.requests.memory)) },
    ];
  }
  // CPU and memory utilisation are usage ÷ request, as the HPA computes them.
  return [
    {
      name: "SCALING_CPU_REQUEST_MILLICORES",
      valueFrom: { resourceFieldRef: { containerName: APP, resource: "requests.cpu", divisor: "1m" } },
    },
    {
      name: "SCALING_MEMORY_REQUEST_BYTES",
      valueFrom: { resourceFieldRef: { containerName: APP, resource: "requests.memory", divisor: "1" } },
    },
  ];
}

function roleEnv(role: InstanceRole, o: ResolvedOptions): IEnvVar[] {
  if (role === "data-plane") return [{ name: "CONSOLE_ENABLED", value: "false" }];
  // Behind the Ingress every sign-in arrives from its controller: believe the address it adds.
  if (role === "console")
    return [
      { name: "CONSOLE_ENABLED", value: "true" },
      { name: "TRUSTED_PROXIES", value: o.trustedProxies },
    ];
  return [];
}

function instanceContainer(role: InstanceRole, o: ResolvedOptions): IContainer {
  return {
    name: APP,
    image: o.image,
    ports: [{ name: "http", containerPort: o.port, protocol: "TCP" }],
    env: [
      { name: "NODE_ENV", value: "production" },
      { name: "PORT", value: String(o.port) },
      { name: "HOST", value: "0.0.0.0" },
      { name: "INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      secretEnv("DATABASE_URL", o.secretName, "database-url"),
      secretEnv("DATABASE_DIRECT_URL", o.secretName, "database-direct-url", true),
      secretEnv("SECRET", o.secretName, "secret"),
      { name: "DRAIN_TIMEOUT_MS", value: String(o.drainTimeoutMs) },
      ...roleEnv(role, o),
      // Any instance may lead, and the leader keeps the HPA on the active policy.
      { name: "SCALING_TARGET", value: "kubernetes" },
      { name: "KUBERNETES_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "KUBERNETES_HPA_NAME", value: HPA_NAME },
      ...scalingRequestEnv(role),
    ],
    resources: structuredClone(role === "console" ? CONSOLE_RESOURCES : DATA_PLANE_RESOURCES),
    livenessProbe: {
      httpGet: { path: "/health/live", port: "http" },
      initialDelaySeconds: 30,
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    // Readiness fails only when the pod cannot serve (starting, configuration stale), not
    // when the database blips. Three misses (15 s) so that slow answers under load, which
    // hit every pod at once, cannot pull the whole fleet; terminating pods leave the
    // endpoints at once whatever this says.
    readinessProbe: {
      httpGet: { path: "/health/ready", port: "http" },
      initialDelaySeconds: 10,
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
      successThreshold: 1,
    },
    // Endpoints and balancers drop the pod while it still serves; SIGTERM comes after.
    lifecycle: { preStop: { sleep: { seconds: o.preStopSeconds } } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  };
}

export function instanceDeployment(role: InstanceRole, o: ResolvedOptions, annotations: Record<string, string>): IDeployment {
  const selector = roleSelector(role);
  const labels = roleLabels(role);
  const autoscaled = role !== "console";
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: roleName(role), namespace: o.namespace, labels, ...(autoscaled ? { annotations } : {}) },
    spec: {
      // No `replicas` where the HPA owns the count: re-applying this file must not reset it.
      ...(autoscaled ? {} : { replicas: o.consoleReplicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: autoscaled ? "25%" : 1 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: APP,
          terminationGracePeriodSeconds: terminationGracePeriodSeconds(o),
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector },
            },
          ],
          containers: [instanceContainer(role, o)],
        },
      },
    },
  };
}
