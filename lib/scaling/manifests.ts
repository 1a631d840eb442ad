// The Kubernetes manifests for one scaling policy: what `npm run k8s:render -- --policy NAME`
// prints and deploy/kubernetes/ holds (rendered for balanced). The HPA part is also what the
// `kubernetes` scaling target patches onto the live HPA, so the two never disagree.
// Types come from kubernetes-models (the OpenAPI schemas, as TypeScript): an unknown field in a
// literal below fails the type check; tests validate every object against the schemas at run time.
import type { IRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import type { IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { IService } from "kubernetes-models/v1/Service";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IHorizontalPodAutoscalerSpec } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerSpec";
import type { IMetricSpec } from "kubernetes-models/autoscaling/v2/MetricSpec";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { stringify } from "yaml";
import { hpaBehavior, type PolicySpec } from "./policies";
import { formatFraction, formatQuantity } from "./quantity";

export const APP = "agenticorp";
/** The HPA's name (the scaling guide's), which the `kubernetes` target patches by default. */
export const HPA_NAME = `${APP}-hpa`;
/** The custom metric prometheus-adapter serves (deploy/prometheus/prometheus-adapter.yaml). */
export const RPS_METRIC = "agenticorp_requests_per_second";

export interface RenderOptions {
  policyName: string;
  spec: PolicySpec;
  namespace?: string;
  image?: string;
  /** The container's port (the guide's 8080). */
  port?: number;
  /** DRAIN_TIMEOUT_MS: how long an instance drains after SIGTERM. */
  drainTimeoutMs?: number;
  /** The preStop pause that lets endpoints and balancers drop the pod before SIGTERM. */
  preStopSeconds?: number;
  /** The Secret with `database-url`, `secret` and optionally `database-direct-url`. */
  secretName?: string;
}

type Required_ = Required<Omit<RenderOptions, "spec" | "policyName">>;

export const RENDER_DEFAULTS: Required_ = {
  namespace: APP,
  image: `${APP}:latest`,
  port: 8080,
  drainTimeoutMs: 30_000,
  preStopSeconds: 5,
  secretName: APP,
};

/** After SIGTERM an instance drains for up to DRAIN_TIMEOUT_MS, then deregisters and closes its pool. */
const SHUTDOWN_MARGIN_SECONDS = 10;

/** preStop + drain + margin: Kubernetes must not SIGKILL an instance that is still draining. */
export function terminationGracePeriodSeconds(options: Pick<Required_, "preStopSeconds" | "drainTimeoutMs">): number {
  return options.preStopSeconds + Math.ceil(options.drainTimeoutMs / 1000) + SHUTDOWN_MARGIN_SECONDS;
}

const labels = { "app.kubernetes.io/name": APP, app: APP };
const selector = { "app.kubernetes.io/name": APP };

export function hpaMetrics(spec: PolicySpec): IMetricSpec[] {
  const metrics: IMetricSpec[] = [
    { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: spec.cpu.scaleUpAtPercent } } },
  ];
  if (spec.memory) metrics.push({ type: "Resource", resource: { name: "memory", target: { type: "Utilization", averageUtilization: spec.memory.targetPercent } } });
  if (spec.requestsPerSecondPerInstance !== undefined) {
    metrics.push({ type: "Pods", pods: { metric: { name: RPS_METRIC }, target: { type: "AverageValue", averageValue: formatQuantity(spec.requestsPerSecondPerInstance) } } });
  }
  return metrics;
}

/** The HPA spec for a policy: bounds, metrics and behaviour with its per-direction tolerances. */
export function hpaSpecFor(spec: PolicySpec, deploymentName = APP): IHorizontalPodAutoscalerSpec {
  const behavior = hpaBehavior(spec);
  const rules = (r: (typeof behavior)["scaleUp"]) => ({
    stabilizationWindowSeconds: r.stabilizationWindowSeconds,
    selectPolicy: r.selectPolicy,
    policies: r.policies.map((p) => ({ type: p.type, value: p.value, periodSeconds: p.periodSeconds })),
    tolerance: formatFraction(r.tolerance ?? 0.1),
  });
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas: spec.minReplicas,
    maxReplicas: spec.maxReplicas,
    metrics: hpaMetrics(spec),
    behavior: { scaleUp: rules(behavior.scaleUp), scaleDown: rules(behavior.scaleDown) },
  };
}

export type Manifest =
  | INamespace
  | IServiceAccount
  | IRole
  | IRoleBinding
  | IJob
  | IDeployment
  | IService
  | IHorizontalPodAutoscaler
  | IPodDisruptionBudget
  | IServiceMonitor;

/** Node evaluates this in the migration Job: the instances' own migrator (PgBouncer-safe). */
export const MIGRATE_SCRIPT = [
  "const { applyMigrations } = await import('./lib/db/migrate.ts');",
  "const { default: pg } = await import('pg');",
  "const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });",
  "try { console.log(JSON.stringify({ msg: 'migrations applied', applied: await applyMigrations(pool) })); } finally { await pool.end(); }",
].join(" ");

function secretEnv(name: string, secretName: string, key: string, optional = false): IEnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key, ...(optional ? { optional: true } : {}) } } };
}

/** Every manifest for the policy, in the order `kubectl apply` should create them. */
export function renderManifests(input: RenderOptions): Manifest[] {
  const o: Required_ = { ...RENDER_DEFAULTS, ...stripUndefined(input) };
  const { namespace } = o;
  const meta = (name: string, extra: Record<string, string> = {}) => ({ name, namespace, labels: { ...labels, ...extra } });
  const policyAnnotation = { "agenticorp.dev/scaling-policy": input.policyName };

  const ns: INamespace = { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } };
  const serviceAccount: IServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(APP) };
  // The leader patches its own HPA (the `kubernetes` scaling target): that one object, nothing else.
  const role: IRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(`${APP}-autoscaler`),
    rules: [{ apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], resourceNames: [HPA_NAME], verbs: ["get", "patch", "update"] }],
  };
  const roleBinding: IRoleBinding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(`${APP}-autoscaler`),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${APP}-autoscaler` },
    subjects: [{ kind: "ServiceAccount", name: APP, namespace }],
  };

  const migrate: IJob = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta(`${APP}-migrate`, { "app.kubernetes.io/component": "migrate" }),
    spec: {
      backoffLimit: 4,
      ttlSecondsAfterFinished: 3_600,
      template: {
        metadata: { labels: { ...labels, "app.kubernetes.io/component": "migrate" } },
        spec: {
          restartPolicy: "Never",
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
          containers: [
            {
              name: "migrate",
              image: o.image,
              command: ["node", "--import", "tsx", "--input-type=module", "-e", MIGRATE_SCRIPT],
              // The instances' migrator holds no session state, so PgBouncer's URL will do.
              env: [secretEnv("DATABASE_URL", o.secretName, "database-url")],
              resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1000m", memory: "512Mi" } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
          ],
        },
      },
    },
  };

  const deployment: IDeployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { ...meta(APP), annotations: policyAnnotation },
    spec: {
      // No `replicas`: the HPA owns the count, and re-applying this file must not reset it.
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: APP,
          terminationGracePeriodSeconds: terminationGracePeriodSeconds(o),
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }],
          containers: [
            {
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
                { name: "SCALING_TARGET", value: "kubernetes" },
                { name: "KUBERNETES_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                { name: "KUBERNETES_HPA_NAME", value: HPA_NAME },
                // CPU and memory utilisation are usage ÷ request, as the HPA computes them.
                { name: "SCALING_CPU_REQUEST_MILLICORES", valueFrom: { resourceFieldRef: { containerName: APP, resource: "requests.cpu", divisor: "1m" } } },
                { name: "SCALING_MEMORY_REQUEST_BYTES", valueFrom: { resourceFieldRef: { containerName: APP, resource: "requests.memory", divisor: "1" } } },
              ],
              resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2000m", memory: "2Gi" } },
              livenessProbe: { httpGet: { path: "/health/live", port: "http" }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
              // Readiness fails only when the pod cannot serve (starting, configuration stale), not
              // when the database blips. Three misses (15 s) so that slow answers under load, which
              // hit every pod at once, cannot pull the whole fleet; terminating pods leave the
              // endpoints at once whatever this says.
              readinessProbe: { httpGet: { path: "/health/ready", port: "http" }, initialDelaySeconds: 10, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 },
              // Endpoints and balancers drop the pod while it still serves; SIGTERM comes after.
              lifecycle: { preStop: { sleep: { seconds: o.preStopSeconds } } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
          ],
        },
      },
    },
  };

  const service: IService = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(APP),
    spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
  };

  const hpa: IHorizontalPodAutoscaler = {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { ...meta(HPA_NAME), annotations: policyAnnotation },
    spec: hpaSpecFor(input.spec),
  };

  // One voluntary eviction at a time, whatever the replica count.
  const pdb: IPodDisruptionBudget = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta(APP),
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  };

  const serviceMonitor: IServiceMonitor = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: meta(APP),
    spec: {
      selector: { matchLabels: selector },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [
        {
          port: "http",
          path: "/metrics",
          interval: "15s",
          // The adapter's rules need the series labelled by pod and namespace.
          relabelings: [
            { sourceLabels: ["__meta_kubernetes_pod_name"], targetLabel: "pod", action: "replace" },
            { sourceLabels: ["__meta_kubernetes_namespace"], targetLabel: "namespace", action: "replace" },
          ],
        },
      ],
    },
  };

  return [ns, serviceAccount, role, roleBinding, migrate, deployment, service, hpa, pdb, serviceMonitor];
}

/** File name under deploy/kubernetes/ for each manifest. */
export function manifestFileName(manifest: Manifest): string {
  const kind = manifest.kind.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
  return `${kind}.yaml`;
}

/** Multi-document YAML for `kubectl apply -f -`. */
export function toYaml(manifests: Manifest[], header?: string): string {
  const body = manifests.map((m) => stringify(m, { lineWidth: 0 }).trimEnd()).join("\n---\n");
  return `${header ? header.split("\n").map((line) => `# ${line}`.trimEnd()).join("\n") + "\n" : ""}${body}\n`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
