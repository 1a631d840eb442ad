// Every rendered manifest, for every preset and both layouts, validated against the Kubernetes
// OpenAPI schemas that kubernetes-models ships (offline; the ServiceMonitor against the Prometheus
// Operator's CRD schema), the committed deploy/kubernetes/ and deploy/kubernetes-split/ equal to
// the balanced renderings, and the pieces that must agree with each other and with the product:
// probes, drain, ports, selectors, the HPA, and in the split layout the Ingress's routing.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1";
import { Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../lib/platform/config";
import { API_PREFIXES } from "../../lib/data-plane/gateway/routes";
import {
  HPA_NAME,
  LAYOUTS,
  manifestFileName,
  renderManifests,
  terminationGracePeriodSeconds,
  type Layout,
  type Manifest,
} from "../../lib/control-plane/scaling/manifests";
import { CONSOLE_RESOURCES, DATA_PLANE_RESOURCES } from "../../lib/control-plane/scaling/manifest-workloads";
import { hpaBehavior, PRESETS, PRESET_NAMES } from "../../lib/control-plane/scaling/policies";
import { parseQuantity } from "../../lib/control-plane/scaling/quantity";
import { PROJECT_ROOT } from "../../lib/platform/version";

const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  Namespace,
  ServiceAccount,
  Role,
  RoleBinding,
  Job,
  Deployment,
  Service,
  Ingress,
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

const byKind = <K extends Manifest["kind"]>(manifests: Manifest[], kind: K) =>
  manifests.find((m) => m.kind === kind) as Extract<Manifest, { kind: K }>;

const KINDS: Record<Layout, string[]> = {
  single: [
    "Namespace",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Job",
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ServiceMonitor",
  ],
  split: [
    "Namespace",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "Job",
    "Deployment",
    "Deployment",
    "Service",
    "Service",
    "Ingress",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "PodDisruptionBudget",
    "ServiceMonitor",
  ],
};

describe("schemas", () => {
  for (const layout of LAYOUTS) {
    for (const policy of PRESET_NAMES) {
      it(`every manifest for ${policy} validates (${layout} layout)`, () => {
        const manifests = renderManifests({ policyName: policy, spec: PRESETS[policy], layout });
        expect(manifests.map((m) => m.kind)).toEqual(KINDS[layout]);
        for (const manifest of manifests) expect(() => validate(manifest), manifest.kind).not.toThrow();
      });
    }
  }

  it("the single layout is the default", () => {
    expect(renderManifests({ policyName: "balanced", spec: PRESETS.balanced })).toEqual(
      renderManifests({ policyName: "balanced", spec: PRESETS.balanced, layout: "single" }),
    );
  });

  it("an Ingress with a host and a class validates, and a bad path type does not", () => {
    const ingress = byKind(
      renderManifests({
        policyName: "balanced",
        spec: PRESETS.balanced,
        layout: "split",
        ingressHost: "llm.example.com",
        ingressClassName: "nginx",
      }),
      "Ingress",
    );
    expect(() => validate(ingress)).not.toThrow();
    expect(ingress.spec).toMatchObject({ ingressClassName: "nginx", rules: [{ host: "llm.example.com" }] });
    const broken = structuredClone(ingress) as any;
    broken.spec.rules[0].http.paths[0].pathType = "Regex";
    expect(() => validate(broken)).toThrow(/pathType/);
  });

  it("a custom policy with memory and requests-per-instance targets validates too", () => {
    const spec = { ...PRESETS.balanced, memory: { targetPercent: 80 }, requestsPerSecondPerInstance: 12.5 };
    const hpa = byKind(renderManifests({ policyName: "custom", spec }), "HorizontalPodAutoscaler");
    expect(() => validate(hpa)).not.toThrow();
    expect(hpa.spec!.metrics![2]).toEqual({
      type: "Pods",
      pods: { metric: { name: "agenticorp_requests_per_second" }, target: { type: "AverageValue", averageValue: "12500m" } },
    });
  });

  it("the validator does reject what the API server would", () => {
    const deployment = structuredClone(
      byKind(renderManifests({ policyName: "balanced", spec: PRESETS.balanced }), "Deployment"),
    ) as any;
    deployment.spec.template.spec.containers[0].ports[0].containerPort = "8080";
    expect(() => validate(deployment)).toThrow(/containerPort/);
    const hpa = structuredClone(
      byKind(renderManifests({ policyName: "balanced", spec: PRESETS.balanced }), "HorizontalPodAutoscaler"),
    ) as any;
    hpa.spec.behavior.scaleUp.selectPolicy = 3;
    expect(() => validate(hpa)).toThrow(/selectPolicy/);
  });
});

const COMMITTED: Record<Layout, string> = { single: "deploy/kubernetes", split: "deploy/kubernetes-split" };

for (const layout of LAYOUTS) {
  describe(COMMITTED[layout], () => {
    const dir = path.join(PROJECT_ROOT, COMMITTED[layout]);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith(".yaml"))
      .sort();
    const committed = files.flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), "utf8")).map((d) => d.toJS()));

    it(`is the balanced ${layout} rendering, one numbered file per manifest (npm run k8s:render -- --policy balanced${layout === "split" ? " --layout split" : ""} --out ${COMMITTED[layout]})`, () => {
      const rendered = renderManifests({ policyName: "balanced", spec: PRESETS.balanced, layout });
      expect(committed).toEqual(JSON.parse(JSON.stringify(rendered)));
      expect(files).toEqual(rendered.map((m, i) => `${String(i + 1).padStart(2, "0")}-${manifestFileName(m)}`));
      expect(new Set(files).size).toBe(files.length);
    });

    it("validates, file by file", () => {
      for (const manifest of committed) expect(() => validate(manifest), manifest.kind).not.toThrow();
    });
  });
}

describe("what the manifests must agree on", () => {
  const manifests = renderManifests({ policyName: "balanced", spec: PRESETS.balanced });
  const deployment = byKind(manifests, "Deployment");
  const pod = deployment.spec!.template.spec!;
  const container = pod.containers[0]!;
  const env = Object.fromEntries(container.env!.map((e) => [e.name, e]));

  it("takes a pod out of rotation only after three failed readiness probes, so a blip cannot flap the fleet", () => {
    expect(container.readinessProbe).toMatchObject({
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
      successThreshold: 1,
    });
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
    expect(container.livenessProbe).toMatchObject({
      httpGet: { path: "/health/live", port: "http" },
      initialDelaySeconds: 30,
      periodSeconds: 10,
    });
    expect(container.readinessProbe).toMatchObject({
      httpGet: { path: "/health/ready", port: "http" },
      initialDelaySeconds: 10,
      periodSeconds: 5,
    });
    expect(container.resources).toEqual({ requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2000m", memory: "2Gi" } });
    expect(container.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    expect(env.PORT?.value).toBe("8080");
  });

  it("gives an instance its preStop pause plus the whole drain before Kubernetes may kill it", () => {
    const drainMs = Number(env.DRAIN_TIMEOUT_MS?.value);
    expect(drainMs).toBe(parseConfig({}).DRAIN_TIMEOUT_MS);
    const preStop = container.lifecycle!.preStop!.sleep!.seconds;
    expect(preStop).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBe(
      terminationGracePeriodSeconds({ preStopSeconds: preStop, drainTimeoutMs: drainMs }),
    );
    expect(pod.terminationGracePeriodSeconds!).toBeGreaterThanOrEqual(preStop + drainMs / 1000 + 5);
  });

  it("leaves the replica count to the HPA", () => {
    expect(deployment.spec!.replicas).toBeUndefined();
    expect(deployment.spec!.strategy).toMatchObject({ rollingUpdate: { maxUnavailable: 0 } });
  });

  it("runs as a non-root user, names each pod as its instance, and passes the requests for utilisation", () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(env.INSTANCE_ID?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
    expect(env.SCALING_CPU_REQUEST_MILLICORES?.valueFrom?.resourceFieldRef).toMatchObject({
      resource: "requests.cpu",
      divisor: "1m",
      containerName: container.name,
    });
    expect(env.SCALING_MEMORY_REQUEST_BYTES?.valueFrom?.resourceFieldRef).toMatchObject({
      resource: "requests.memory",
      containerName: container.name,
    });
    expect(env.SCALING_TARGET?.value).toBe("kubernetes");
    // The configuration module accepts what the manifest sets.
    expect(() =>
      parseConfig({
        SCALING_TARGET: "kubernetes",
        KUBERNETES_HPA_NAME: env.KUBERNETES_HPA_NAME!.value,
        SCALING_CPU_REQUEST_MILLICORES: "500",
        SCALING_MEMORY_REQUEST_BYTES: String(2 ** 30),
      }),
    ).not.toThrow();
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
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: service.spec!.ports![0]!.name, path: "/metrics" });
    expect(Object.entries(monitor.spec.selector.matchLabels!).every(([k, v]) => service.metadata!.labels![k] === v)).toBe(true);
    const hpa = byKind(manifests, "HorizontalPodAutoscaler");
    expect(hpa.metadata!.name).toBe(HPA_NAME);
    expect(env.KUBERNETES_HPA_NAME?.value).toBe(HPA_NAME);
    expect(hpa.spec!.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata!.name });
    expect(byKind(manifests, "Role").rules![0]).toMatchObject({
      apiGroups: ["autoscaling"],
      resources: ["horizontalpodautoscalers"],
      resourceNames: [HPA_NAME],
    });
    expect(byKind(manifests, "RoleBinding").subjects![0]).toMatchObject({ kind: "ServiceAccount", name: pod.serviceAccountName });
    expect(byKind(manifests, "ServiceAccount").metadata!.name).toBe(pod.serviceAccountName);
  });

  for (const policy of PRESET_NAMES) {
    it(`the ${policy} HPA is the policy the decider runs`, () => {
      const spec = PRESETS[policy];
      const hpa = byKind(renderManifests({ policyName: policy, spec }), "HorizontalPodAutoscaler").spec!;
      expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([spec.minReplicas, spec.maxReplicas]);
      expect(hpa.metrics).toEqual([
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: spec.cpu.scaleUpAtPercent } },
        },
      ]);
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

/**
 * Which backend an Ingress sends a path to, as networking.k8s.io/v1 defines it: Exact matches the
 * whole path, Prefix matches whole `/`-separated elements, and the longest matching path wins.
 */
function ingressBackend(ingress: Extract<Manifest, { kind: "Ingress" }>, requestPath: string): string | undefined {
  const elements = (p: string) => p.split("/").filter(Boolean);
  const matching = ingress.spec!.rules![0]!.http!.paths.filter(({ path: rulePath, pathType }) => {
    if (pathType === "Exact") return rulePath === requestPath;
    const rule = elements(rulePath!);
    const request = elements(requestPath);
    return rule.every((element, i) => request[i] === element);
  });
  matching.sort((a, b) => b.path!.length - a.path!.length);
  return matching[0]?.backend.service?.name;
}

/** Every page and route handler under app/, as a request path ([id] segments filled in, (group) folders dropped). */
function consolePaths(dir = path.join(PROJECT_ROOT, "app"), prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (!entry.isDirectory()) return /^(page\.tsx|route\.ts)$/.test(entry.name) ? [prefix || "/"] : [];
    const segment = /^\(.*\)$/.test(entry.name)
      ? ""
      : `/${entry.name.replace(/^\[\.\.\.(\w+)\]$/, "session").replace(/^\[(\w+)\]$/, "some-id")}`;
    return consolePaths(path.join(dir, entry.name), prefix + segment);
  });
}

describe("the split layout", () => {
  const manifests = renderManifests({ policyName: "balanced", spec: PRESETS.balanced, layout: "split" });
  const deployments = manifests.filter((m): m is Extract<Manifest, { kind: "Deployment" }> => m.kind === "Deployment");
  const dataPlane = deployments.find((d) => d.metadata!.name === "agenticorp-data-plane")!;
  const consoleDeployment = deployments.find((d) => d.metadata!.name === "agenticorp-console")!;
  const envOf = (d: typeof dataPlane) => Object.fromEntries(d.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e]));
  const services = manifests.filter((m): m is Extract<Manifest, { kind: "Service" }> => m.kind === "Service");
  const ingress = byKind(manifests, "Ingress");
  const selects = (selector: Record<string, string>, d: typeof dataPlane) =>
    Object.entries(selector).every(([k, v]) => d.spec!.template.metadata!.labels![k] === v);

  it("serves the data plane without the console, scaled by the HPA", () => {
    expect(envOf(dataPlane).CONSOLE_ENABLED?.value).toBe("false");
    expect(parseConfig({ CONSOLE_ENABLED: envOf(dataPlane).CONSOLE_ENABLED!.value }).CONSOLE_ENABLED).toBe(false);
    expect(dataPlane.spec!.replicas).toBeUndefined();
    expect(byKind(manifests, "HorizontalPodAutoscaler").spec!.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "agenticorp-data-plane",
    });
    expect(dataPlane.spec!.template.spec!.containers[0]!.resources).toEqual(DATA_PLANE_RESOURCES);
  });

  it("runs the console on two replicas that no autoscaler touches", () => {
    expect(consoleDeployment.spec!.replicas).toBe(2);
    expect(manifests.filter((m) => m.kind === "HorizontalPodAutoscaler")).toHaveLength(1);
    const env = envOf(consoleDeployment);
    expect(
      parseConfig({ CONSOLE_ENABLED: env.CONSOLE_ENABLED!.value, TRUSTED_PROXIES: env.TRUSTED_PROXIES!.value }),
    ).toMatchObject({ CONSOLE_ENABLED: true, TRUSTED_PROXIES: 1 });
    expect(consoleDeployment.spec!.template.spec!.containers[0]!.resources).toEqual(CONSOLE_RESOURCES);
    // Sign-in throttling is the console's alone: the data plane does not believe forwarded addresses.
    expect(envOf(dataPlane).TRUSTED_PROXIES).toBeUndefined();
  });

  it("measures the data plane against its own requests, whichever role leads", () => {
    const dataPlaneEnv = envOf(dataPlane);
    expect(dataPlaneEnv.SCALING_CPU_REQUEST_MILLICORES?.valueFrom?.resourceFieldRef).toMatchObject({
      resource: "requests.cpu",
      divisor: "1m",
    });
    const consoleEnv = envOf(consoleDeployment);
    expect(Number(consoleEnv.SCALING_CPU_REQUEST_MILLICORES!.value)).toBe(
      parseQuantity(DATA_PLANE_RESOURCES.requests.cpu) * 1000,
    );
    expect(Number(consoleEnv.SCALING_MEMORY_REQUEST_BYTES!.value)).toBe(parseQuantity(DATA_PLANE_RESOURCES.requests.memory));
    for (const env of [dataPlaneEnv, consoleEnv]) {
      expect(env.SCALING_TARGET?.value).toBe("kubernetes");
      expect(env.KUBERNETES_HPA_NAME?.value).toBe(HPA_NAME);
      expect(env.SECRET?.valueFrom?.secretKeyRef).toBeDefined();
    }
  });

  it("gives each role its own Service and disruption budget, selecting its pods and not the other's", () => {
    for (const [deployment, other] of [
      [dataPlane, consoleDeployment],
      [consoleDeployment, dataPlane],
    ] as const) {
      const service = services.find((s) => s.metadata!.name === deployment.metadata!.name)!;
      expect(selects(service.spec!.selector!, deployment)).toBe(true);
      expect(selects(service.spec!.selector!, other)).toBe(false);
      expect(selects(deployment.spec!.selector.matchLabels!, other)).toBe(false);
      const budget = manifests.find(
        (m) => m.kind === "PodDisruptionBudget" && m.metadata!.name === deployment.metadata!.name,
      ) as Extract<Manifest, { kind: "PodDisruptionBudget" }>;
      expect(selects(budget.spec!.selector!.matchLabels!, deployment)).toBe(true);
      expect(selects(budget.spec!.selector!.matchLabels!, other)).toBe(false);
      expect(service.spec!.ports![0]!.targetPort).toBe(deployment.spec!.template.spec!.containers[0]!.ports![0]!.name);
    }
    // One ServiceMonitor scrapes both.
    const monitor = byKind(manifests, "ServiceMonitor");
    for (const service of services)
      expect(Object.entries(monitor.spec.selector.matchLabels!).every(([k, v]) => service.metadata!.labels![k] === v)).toBe(true);
  });

  it("shares the one migration Job and image between both roles", () => {
    const job = byKind(manifests, "Job");
    expect(manifests.filter((m) => m.kind === "Job")).toHaveLength(1);
    for (const deployment of deployments)
      expect(deployment.spec!.template.spec!.containers[0]!.image).toBe(job.spec!.template.spec!.containers[0]!.image);
  });

  it("routes the data plane's paths to the data plane and everything else to the console", () => {
    const routes = (paths: string[]) => Object.fromEntries(paths.map((p) => [p, ingressBackend(ingress, p)]));
    const dataPlanePaths = [
      ...API_PREFIXES.flatMap((prefix) => [
        `${prefix}/chat/completions`,
        `${prefix}/models`,
        `${prefix}/models/org/model`,
        `${prefix}/messages/count_tokens`,
        `${prefix}/unknown`,
      ]),
      "/health",
      "/health/live",
      "/health/ready",
      "/metrics",
    ];
    expect(
      Object.values(routes(dataPlanePaths)).every((b) => b === "agenticorp-data-plane"),
      JSON.stringify(routes(dataPlanePaths)),
    ).toBe(true);
    const pages = consolePaths();
    expect(pages).toEqual(
      expect.arrayContaining(["/", "/login", "/keys", "/api/auth/session", "/api/console/keys/some-id/revoke"]),
    );
    const elsewhere = [...pages, "/_next/static/chunks/main.js", "/icon.svg", "/v10", "/healthz", "/metrics/extra", "/api/v10"];
    expect(
      Object.values(routes(elsewhere)).every((b) => b === "agenticorp-console"),
      JSON.stringify(routes(elsewhere)),
    ).toBe(true);
    // Each backend is a Service of this rendering, on its named port.
    for (const rule of ingress.spec!.rules![0]!.http!.paths) {
      const service = services.find((s) => s.metadata!.name === rule.backend.service!.name);
      expect(service?.spec!.ports!.map((p) => p.name)).toContain(rule.backend.service!.port!.name);
    }
  });
});
