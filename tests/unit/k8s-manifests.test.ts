// Every rendered manifest, for every preset, validated against the Kubernetes OpenAPI schemas that
// kubernetes-models ships (offline; the ServiceMonitor against the Prometheus Operator's CRD
// schema), the committed deploy/kubernetes/ equal to the balanced rendering, and the pieces that
// must agree with each other and with the product: probes, drain, ports, selectors, the HPA.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/config";
import { HPA_NAME, manifestFileName, renderManifests, terminationGracePeriodSeconds, type Manifest } from "../../lib/scaling/manifests";
import { hpaBehavior, PRESETS, PRESET_NAMES } from "../../lib/scaling/policies";
import { parseQuantity } from "../../lib/scaling/quantity";
import { PROJECT_ROOT } from "../../lib/version";

const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  Namespace,
  ServiceAccount,
  Role,
  RoleBinding,
  Job,
  Deployment,
  Service,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  ServiceMonitor,
};

function validate(manifest: unknown): void {
  const kind = (manifest as { kind: string }).kind;
  const Model = MODELS[kind];
  if (!Model) throw new Error(`no schema for ${kind}`);
  new Model(structuredClone(manifest)).validate();
}

const byKind = <K extends Manifest["kind"]>(manifests: Manifest[], kind: K) => manifests.find((m) => m.kind === kind) as Extract<Manifest, { kind: K }>;

describe("schemas", () => {
  for (const policy of PRESET_NAMES) {
    it(`every manifest for ${policy} validates`, () => {
      const manifests = renderManifests({ policyName: policy, spec: PRESETS[policy] });
      expect(manifests.map((m) => m.kind)).toEqual(["Namespace", "ServiceAccount", "Role", "RoleBinding", "Job", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor"]);
      for (const manifest of manifests) expect(() => validate(manifest), manifest.kind).not.toThrow();
    });
  }

  it("a custom policy with memory and requests-per-instance targets validates too", () => {
    const spec = { ...PRESETS.balanced, memory: { targetPercent: 80 }, requestsPerSecondPerInstance: 12.5 };
    const hpa = byKind(renderManifests({ policyName: "custom", spec }), "HorizontalPodAutoscaler");
    expect(() => validate(hpa)).not.toThrow();
    expect(hpa.spec!.metrics![2]).toEqual({ type: "Pods", pods: { metric: { name: "agenticorp_requests_per_second" }, target: { type: "AverageValue", averageValue: "12500m" } } });
  });

  it("the validator does reject what the API server would", () => {
    const deployment = structuredClone(byKind(renderManifests({ policyName: "balanced", spec: PRESETS.balanced }), "Deployment")) as any;
    deployment.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    expect(() => validate(deployment)).toThrow(/containerPort/);
    const hpa = structuredClone(byKind(renderManifests({ policyName: "balanced", spec: PRESETS.balanced }), "HorizontalPodAutoscaler")) as any;
    hpa.spec.behavior.scaleUp.selectPolicy = 3;
    expect(() => validate(hpa)).toThrow(/selectPolicy/);
  });
});

describe("deploy/kubernetes", () => {
  const dir = path.join(PROJECT_ROOT, "deploy/kubernetes");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
  const committed = files.flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), "utf8")).map((d) => d.toJS()));

  it("is the balanced rendering, one numbered file per manifest (npm run k8s:render -- --policy balanced --out deploy/kubernetes)", () => {
    const rendered = renderManifests({ policyName: "balanced", spec: PRESETS.balanced });
    expect(committed).toEqual(JSON.parse(JSON.stringify(rendered)));
    expect(files).toEqual(rendered.map((m, i) => `${String(i + 1).padStart(2, "0")}-${manifestFileName(m)}`));
  });

  it("validates, file by file", () => {
    for (const manifest of committed) expect(() => validate(manifest), manifest.kind).not.toThrow();
  });
});

describe("what the manifests must agree on", () => {
  const manifests = renderManifests({ policyName: "balanced", spec: PRESETS.balanced });
  const deployment = byKind(manifests, "Deployment");
  const pod = deployment.spec!.template.spec!;
  const container = pod.containers[0]!;
  const env = Object.fromEntries(container.env!.map((e) => [e.name, e]));

  it("takes a pod out of rotation only after three failed readiness probes, so a blip cannot flap the fleet", () => {
    expect(container.readinessProbe).toMatchObject({ periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3, successThreshold: 1 });
  });

  it("matches the HAProxy example, whose /health/ready check also needs three failures in a row", () => {
    const haproxy = readFileSync(path.join(PROJECT_ROOT, "deploy", "haproxy", "haproxy.cfg"), "utf8");
    const defaults = /^\s*default-server (.*)$/m.exec(haproxy)![1]!;
    expect(haproxy).toMatch(/^\s*http-check send meth GET uri \/health\/ready$/m);
    expect(defaults).toMatch(/(^| )check( |$)/);
    expect(defaults).toMatch(/ inter 2s /);
    expect(defaults).toMatch(/ fall 3 /);
    expect(defaults).toMatch(/ rise 2 /);
  });

  it("has the guide's probes, resources and port", () => {
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: "/health/live", port: "http" }, initialDelaySeconds: 30, periodSeconds: 10 });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: "/health/ready", port: "http" }, initialDelaySeconds: 10, periodSeconds: 5 });
    expect(container.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2000m", memory: "2Gi" } });
    expect(container.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(env.PORT?.value).toBe("8080");
  });

  it("gives an instance its preStop pause plus the whole drain before Kubernetes may kill it", () => {
    const drainMs = Number(env.DRAIN_TIMEOUT_MS?.value);
    expect(drainMs).toBe(parseConfig({}).DRAIN_TIMEOUT_MS);
    const preStop = container.lifecycle!.preStop!.sleep!.seconds;
    expect(preStop).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBe(terminationGracePeriodSeconds({ preStopSeconds: preStop, drainTimeoutMs: drainMs }));
    expect(pod.terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(preStop + drainMs / 1000 + 5);
  });

  it("leaves the replica count to the HPA", () => {
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(deployment.spec!.strategy).toMatchObject({ rollingUpdate: { maxUnavailable: 0 } });
  });

  it("runs as a non-root user, names each pod as its instance, and passes the requests for utilisation", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(env.INSTANCE_ID?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(env.SCALING_CPU_REQUEST_MILLICORES?.valueFrom?.resourceFieldRef).toMatchObject({ resource: "requests.cpu", divisor: "1m", containerName: container.name });
    expect(env.SCALING_MEMORY_REQUEST_BYTES?.valueFrom?.resourceFieldRef).toMatchObject({ resource: "requests.memory", containerName: container.name });
    expect(env.SCALING_TARGET?.value).toBe("kubernetes");
    // The configuration module accepts what the manifest sets.
    expect(() => parseConfig({ SCALING_TARGET: "kubernetes", KUBERNETES_HPA_NAME: env.KUBERNETES_HPA_NAME!.value, SCALING_CPU_REQUEST_MILLICORES: "500", SCALING_MEMORY_REQUEST_BYTES: String(2 ** 30) })).not.toThrow();
  });

  it("wires the Service, PDB, ServiceMonitor, HPA and RBAC to the Deployment", () => {
    const podLabels = deployment.spec!.template.metadata!.labels!;
    const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    const service = byKind(manifests, "Service");
    expect(selects(service.spec!.selector!)).toBe(true);
    expect(selects(deployment.spec!.selector.matchLabels!)).toBe(true);
    expect(selects(byKind(manifests, "PodDisruptionBudget").spec!.selector!.matchLabels!)).toBe(true);
    expect(service.spec!.ports![0]!.targetPort).toBe(container.ports![0]!.name);
    const monitor = byKind(manifests, "ServiceMonitor");
    expect(monitor.spec.endpoints![0]).toMatchObject({ port: service.spec!.ports![0]!.name, path: "/metrics" });
    expect(Object.entries(monitor.spec.selector.matchLabels!).every(([k, v]) => service.metadata!.labels![k] === v)).toBe(true);
    const hpa = byKind(manifests, "HorizontalPodAutoscaler");
    expect(hpa.metadata!.name).toBe(HPA_NAME);
    expect(env.KUBERNETES_HPA_NAME?.value).toBe(HPA_NAME);
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata!.name });
    expect(byKind(manifests, "Role").rules![0]).toMatchObject({ apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], resourceNames: [HPA_NAME] });
    expect(byKind(manifests, "RoleBinding").subjects![0]).toMatchObject({ kind: "ServiceAccount", name: pod.serviceAccountName });
    expect(byKind(manifests, "ServiceAccount").metadata!.name).toBe(pod.serviceAccountName);
  });

  for (const policy of PRESET_NAMES) {
    it(`the ${policy} HPA is the policy the decider runs`, () => {
      const spec = PRESETS[policy];
      const hpa = byKind(renderManifests({ policyName: policy, spec }), "HorizontalPodAutoscaler").spec!;
      expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([spec.minReplicas, spec.maxReplicas]);
      expect(hpa.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: spec.cpu.scaleUpAtPercent } } }]);
      const behavior = hpaBehavior(spec);
      for (const direction of ["scaleUp", "scaleDown"] as const) {
        const rendered = hpa.behavior![direction]!;
        expect({ ...rendered, tolerance: parseQuantity(rendered.tolerance!) }).toEqual(behavior[direction]);
      }
    });
  }

  it("runs the instances' own migrator in the migration Job", () => {
    const job = byKind(manifests, "Job");
    const migrate = job.spec!.template.spec!.containers[0]!;
    expect(migrate.image).toBe(container.image);
    expect(migrate.command!.slice(0, 5)).toEqual(["node", "--import", "tsx", "--input-type=module", "-e"]);
    expect(migrate.command![5]).toContain("applyMigrations");
    expect(job.spec!.template.spec!.restartPolicy).toBe("Never");
  });
});
