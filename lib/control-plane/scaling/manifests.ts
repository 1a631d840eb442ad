// The Kubernetes manifests for one scaling policy: what `npm run k8s:render -- --policy NAME`
// prints and deploy/kubernetes/ holds (rendered for balanced). Two layouts: `single` (the default
// for small installs: one Deployment serving the data plane and the console) and `split`
// (deploy/kubernetes-split/: a data-plane Deployment the HPA scales, a console Deployment with a
// fixed count, a Service each, and an Ingress routing between them). The HPA part is also what the
// `kubernetes` scaling target patches onto the live HPA, so the two never disagree.
// Types come from kubernetes-models (the OpenAPI schemas, as TypeScript): an unknown field in a
// literal below fails the type check; tests validate every object against the schemas at run time.
import type { IRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import type { IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { IService } from "kubernetes-models/v1/Service";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { IHTTPIngressPath } from "kubernetes-models/networking.k8s.io/v1/HTTPIngressPath";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IHorizontalPodAutoscalerSpec } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerSpec";
import type { IMetricSpec } from "kubernetes-models/autoscaling/v2/MetricSpec";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { stringify } from "yaml";
import { hpaBehavior, queueDepthTarget, type PolicySpec } from "./policies";
import { formatFraction, formatQuantity } from "./quantity";
import {
  APP,
  baseLabels,
  HPA_NAME,
  instanceDeployment,
  roleLabels,
  roleName,
  roleSelector,
  secretEnv,
  type InstanceRole,
  type ResolvedOptions,
} from "./manifest-workloads";

export { APP, HPA_NAME, terminationGracePeriodSeconds } from "./manifest-workloads";
/** The custom (Pods) metric prometheus-adapter serves (deploy/prometheus-adapter/configmap.yaml). */
export const RPS_METRIC = "agenticorp_requests_per_second";
/**
 * The External metric prometheus-adapter serves for queue depth: the leader's fleet-wide count of
 * queued batch jobs (max over instances: only the leader has the series, so nothing is counted twice).
 */
export const QUEUE_METRIC = "agenticorp_batch_jobs_queued";

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
  /** `single` (default): one Deployment for everything; `split`: data plane and console apart. */
  layout?: Layout;
  /** split: the console's fixed replica count. */
  consoleReplicas?: number;
  /** split: TRUSTED_PROXIES on the console (a hop count: 1 = the Ingress controller in front of it). */
  trustedProxies?: string;
  /** split: the Ingress's host rule (unset: any host). */
  ingressHost?: string;
  /** split: the IngressClass (unset: the cluster's default class). */
  ingressClassName?: string;
}

export const LAYOUTS = ["single", "split"] as const;
export type Layout = (typeof LAYOUTS)[number];

type Resolved = ResolvedOptions & { layout: Layout; ingressHost?: string; ingressClassName?: string };

export const RENDER_DEFAULTS: ResolvedOptions & { layout: Layout } = {
  namespace: APP,
  image: `${APP}:latest`,
  port: 8080,
  drainTimeoutMs: 30_000,
  preStopSeconds: 5,
  secretName: APP,
  layout: "single",
  consoleReplicas: 2,
  trustedProxies: "1",
};

/** What the data-plane Deployment serves in the split layout; the console gets every other path. */
const DATA_PLANE_PATHS: ReadonlyArray<{ path: string; pathType: "Prefix" | "Exact" }> = [
  { path: "/v1", pathType: "Prefix" },
  { path: "/api/v1", pathType: "Prefix" },
  // Prefix matches whole segments: /health, /health/live, /health/ready.
  { path: "/health", pathType: "Prefix" },
  { path: "/metrics", pathType: "Exact" },
];

export function hpaMetrics(spec: PolicySpec): IMetricSpec[] {
  const metrics: IMetricSpec[] = [
    {
      type: "Resource",
      resource: { name: "cpu", target: { type: "Utilization", averageUtilization: spec.cpu.scaleUpAtPercent } },
    },
  ];
  if (spec.memory)
    metrics.push({
      type: "Resource",
      resource: { name: "memory", target: { type: "Utilization", averageUtilization: spec.memory.targetPercent } },
    });
  if (spec.requestsPerSecondPerInstance !== undefined) {
    metrics.push({
      type: "Pods",
      pods: {
        metric: { name: RPS_METRIC },
        target: { type: "AverageValue", averageValue: formatQuantity(spec.requestsPerSecondPerInstance) },
      },
    });
  }
  const queue = queueDepthTarget(spec);
  // AverageValue on an External metric: the HPA sizes the fleet to ceil(queued ÷ target).
  if (queue !== null)
    metrics.push({
      type: "External",
      external: { metric: { name: QUEUE_METRIC }, target: { type: "AverageValue", averageValue: formatQuantity(queue) } },
    });
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
  | IIngress
  | IHorizontalPodAutoscaler
  | IPodDisruptionBudget
  | IServiceMonitor;

/** Node evaluates this in the migration Job: the instances' own migrator (PgBouncer-safe). */
const MIGRATE_SCRIPT = [
  "const { applyMigrations } = await import('./lib/platform/db/migrate.ts');",
  "const { default: pg } = await import('pg');",
  "const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });",
  "try { console.log(JSON.stringify({ msg: 'migrations applied', applied: await applyMigrations(pool) })); } finally { await pool.end(); }",
].join(" ");

/** The roles a layout deploys, the autoscaled one first. */
function layoutRoles(layout: Layout): InstanceRole[] {
  return layout === "split" ? ["data-plane", "console"] : ["all"];
}

/** Every manifest for the policy, in the order `kubectl apply` should create them. */
export function renderManifests(input: RenderOptions): Manifest[] {
  const o: Resolved = { ...RENDER_DEFAULTS, ...stripUndefined(input) };
  const roles = layoutRoles(o.layout);
  const policyAnnotation = { "agenticorp.dev/scaling-policy": input.policyName };
  // The HPA scales the role that serves traffic; the console keeps its count.
  const autoscaled = roles[0]!;
  return [
    ...clusterAccess(o),
    migrationJob(o),
    ...roles.map((role) => instanceDeployment(role, o, policyAnnotation)),
    ...roles.map((role) => instanceService(role, o)),
    ...(o.layout === "split" ? [ingress(o)] : []),
    autoscaler(input.spec, roleName(autoscaled), o, policyAnnotation),
    ...roles.map((role) => disruptionBudget(role, o)),
    serviceMonitor(o),
  ];
}

function meta(o: Resolved, name: string, labels: Record<string, string> = baseLabels) {
  return { name, namespace: o.namespace, labels };
}

/** The namespace, the instances' ServiceAccount, and the right to patch their own HPA. */
function clusterAccess(o: Resolved): [INamespace, IServiceAccount, IRole, IRoleBinding] {
  const { namespace } = o;
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: baseLabels } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(o, APP) },
    // The leader patches its own HPA (the `kubernetes` scaling target): that one object, nothing else.
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta(o, `${APP}-autoscaler`),
      rules: [
        {
          apiGroups: ["autoscaling"],
          resources: ["horizontalpodautoscalers"],
          resourceNames: [HPA_NAME],
          verbs: ["get", "patch", "update"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(o, `${APP}-autoscaler`),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${APP}-autoscaler` },
      subjects: [{ kind: "ServiceAccount", name: APP, namespace }],
    },
  ];
}

/** The schema migration, once per rollout, for every role (they share one database). */
function migrationJob(o: Resolved): IJob {
  const labels = { ...baseLabels, "app.kubernetes.io/component": "migrate" };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta(o, `${APP}-migrate`, labels),
    spec: {
      backoffLimit: 4,
      ttlSecondsAfterFinished: 3_600,
      template: {
        metadata: { labels },
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
}

function instanceService(role: InstanceRole, o: Resolved): IService {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(o, roleName(role), roleLabels(role)),
    spec: {
      type: "ClusterIP",
      selector: roleSelector(role),
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/** split: the data plane's paths to its Service, everything else (pages, /api/auth, the console's JSON) to the console's. */
function ingress(o: Resolved): IIngress {
  const backend = (role: InstanceRole) => ({ service: { name: roleName(role), port: { name: "http" } } });
  const paths: IHTTPIngressPath[] = [
    ...DATA_PLANE_PATHS.map(({ path, pathType }) => ({ path, pathType, backend: backend("data-plane") })),
    // The longest matching path wins, so this takes only what the data plane does not.
    { path: "/", pathType: "Prefix", backend: backend("console") },
  ];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: meta(o, APP),
    spec: {
      ...(o.ingressClassName ? { ingressClassName: o.ingressClassName } : {}),
      rules: [{ ...(o.ingressHost ? { host: o.ingressHost } : {}), http: { paths } }],
    },
  };
}

function autoscaler(
  spec: PolicySpec,
  deploymentName: string,
  o: Resolved,
  annotations: Record<string, string>,
): IHorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { ...meta(o, HPA_NAME), annotations },
    spec: hpaSpecFor(spec, deploymentName),
  };
}

/** One voluntary eviction at a time, whatever the replica count. */
function disruptionBudget(role: InstanceRole, o: Resolved): IPodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta(o, roleName(role), role === "all" ? baseLabels : roleLabels(role)),
    spec: { maxUnavailable: 1, selector: { matchLabels: roleSelector(role) } },
  };
}

/** Scrapes every instance's /metrics, whatever its role (both Services carry the app's name label). */
function serviceMonitor(o: Resolved): IServiceMonitor {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: meta(o, APP),
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": APP } },
      namespaceSelector: { matchNames: [o.namespace] },
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
}

/** File name under deploy/kubernetes(-split)/ for each manifest: its kind, and its role where a layout has two of a kind. */
export function manifestFileName(manifest: Manifest): string {
  const kind = manifest.kind.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
  const role = (["data-plane", "console"] as const).find((r) => manifest.metadata?.name === roleName(r));
  return `${kind}${role ? `-${role}` : ""}.yaml`;
}

/** Multi-document YAML for `kubectl apply -f -`. */
export function toYaml(manifests: Manifest[], header?: string): string {
  const body = manifests.map((m) => stringify(m, { lineWidth: 0, aliasDuplicateObjects: false }).trimEnd()).join("\n---\n");
  return `${
    header
      ? header
          .split("\n")
          .map((line) => `# ${line}`.trimEnd())
          .join("\n") + "\n"
      : ""
  }${body}\n`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
