// deploy/prometheus-adapter/configmap.yaml: a valid ConfigMap whose adapter rules serve exactly
// the metrics the rendered HPA asks for, from series this process really exposes; and the External
// queue-depth query, evaluated by promtool over a fleet whose leader changes, reads the queue once
// (max over instances), never twice and never from an instance that stopped leading.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ConfigMap } from "kubernetes-models/v1";
import { parse, parseDocument } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUE_METRIC, renderManifests, RPS_METRIC } from "../../lib/control-plane/scaling/manifests";
import { PRESETS } from "../../lib/control-plane/scaling/policies";
import { registry } from "../../lib/platform/metrics/registry";
import { PROJECT_ROOT } from "../../lib/platform/version";
import "../../lib/platform/metrics/batch";
import "../../lib/platform/metrics/gateway";
import "../../lib/platform/metrics/http";

interface Rule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

const FILE = path.join(PROJECT_ROOT, "deploy/prometheus-adapter/configmap.yaml");
let configMap: { kind: string; data: Record<string, string> };
let config: { rules: Rule[]; externalRules: Rule[] };
let scratch: string;

beforeAll(async () => {
  configMap = parseDocument(await readFile(FILE, "utf8")).toJS();
  config = parse(configMap.data["config.yaml"]!);
  scratch = await mkdtemp(path.join(os.tmpdir(), "agenticorp-adapter-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const seriesName = (rule: Rule) => /^([a-z_:][a-z0-9_:]*)\{/.exec(rule.seriesQuery)![1]!;

/** The adapter's template for one request in namespace `ns` (what it sends to Prometheus). */
function expand(rule: Rule, ns: string): string {
  return rule.metricsQuery
    .replaceAll("<<.Series>>", seriesName(rule))
    .replaceAll("<<.LabelMatchers>>", `namespace="${ns}"`)
    .replaceAll("<<.GroupBy>>", "namespace");
}

function promtool(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(error.code === "ENOENT" ? new Error("promtool is not installed (Debian package prometheus)") : error),
    );
    child.once("close", (code) => resolve({ code, output }));
  });
}

describe("deploy/prometheus-adapter/configmap.yaml", () => {
  it("is a valid ConfigMap carrying the adapter's config.yaml", () => {
    expect(configMap.kind).toBe("ConfigMap");
    expect(() => new ConfigMap(structuredClone(configMap) as never).validate()).not.toThrow();
    expect(config.rules.length).toBeGreaterThan(0);
    expect(config.externalRules.length).toBeGreaterThan(0);
  });

  it("serves every metric the rendered HPA asks for, Pods metrics as custom rules and External ones as external rules", () => {
    const spec = { ...PRESETS.balanced, requestsPerSecondPerInstance: 10, queueDepthTarget: 500 };
    const hpa = renderManifests({ policyName: "all-metrics", spec }).find((m) => m.kind === "HorizontalPodAutoscaler")!;
    const metrics = (
      hpa.spec as {
        metrics: Array<{ type: string; pods?: { metric: { name: string } }; external?: { metric: { name: string } } }>;
      }
    ).metrics;
    const pods = metrics.filter((m) => m.type === "Pods").map((m) => m.pods!.metric.name);
    const external = metrics.filter((m) => m.type === "External").map((m) => m.external!.metric.name);
    expect(pods).toEqual([RPS_METRIC]);
    expect(external).toEqual([QUEUE_METRIC]);
    for (const name of pods) expect(config.rules.map((r) => r.name.as)).toContain(name);
    for (const name of external) expect(config.externalRules.map((r) => r.name.as)).toContain(name);
  });

  it("reads only series this process exposes, each rule's name pattern matching its series", () => {
    for (const rule of [...config.rules, ...config.externalRules]) {
      const name = seriesName(rule);
      expect(registry.getSingleMetric(name), name).toBeDefined();
      expect(new RegExp(rule.name.matches).test(name), name).toBe(true);
    }
  });

  it("keeps the queue namespaced and reads only the leader's fleet-wide series", () => {
    const [queue] = config.externalRules.filter((r) => r.name.as === QUEUE_METRIC);
    expect(queue!.resources.overrides).toEqual({ namespace: { resource: "namespace" } });
    expect(queue!.seriesQuery).toContain('scope="fleet"');
    expect(expand(queue!, "agenticorp")).toBe('max(agenticorp_batch_jobs_queued{namespace="agenticorp",scope="fleet"})');
  });

  it("counts the queue once across a change of leader (promtool over the expanded query)", async () => {
    const [queue] = config.externalRules.filter((r) => r.name.as === QUEUE_METRIC);
    const query = expand(queue!, "agenticorp");
    // pod-a leads for 3 minutes, then pod-b takes over; for one scrape both series are live, then
    // pod-a's vanishes from its scrape and Prometheus marks it stale (`stale`: what it writes when
    // a series disappears or its target stops answering). Another namespace's fleet and a series
    // without scope="fleet" must not count.
    const tests = {
      rule_files: [],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            {
              series: 'agenticorp_batch_jobs_queued{namespace="agenticorp",pod="pod-a",scope="fleet"}',
              values: "20000 18000 15000 12000 stale _",
            },
            {
              series: 'agenticorp_batch_jobs_queued{namespace="agenticorp",pod="pod-b",scope="fleet"}',
              values: "_ _ _ 12000 9000 0",
            },
            {
              series: 'agenticorp_batch_jobs_queued{namespace="other",pod="pod-x",scope="fleet"}',
              values: "99999 99999 99999 99999 99999 99999",
            },
            {
              series: 'agenticorp_batch_jobs_queued{namespace="agenticorp",pod="pod-c",scope="stale"}',
              values: "77777 77777 77777 77777 77777 77777",
            },
          ],
          promql_expr_test: [
            { expr: query, eval_time: "0m", exp_samples: [{ labels: "{}", value: 20000 }] },
            { expr: query, eval_time: "3m", exp_samples: [{ labels: "{}", value: 12000 }] },
            { expr: query, eval_time: "4m", exp_samples: [{ labels: "{}", value: 9000 }] },
            { expr: query, eval_time: "5m", exp_samples: [{ labels: "{}", value: 0 }] },
          ],
        },
      ],
    };
    await writeFile(path.join(scratch, "queue.test.yml"), JSON.stringify(tests));
    const result = await promtool(["test", "rules", "queue.test.yml"], scratch);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);

    // The same fleet summed would count the overlap twice: the test above can tell.
    const summed = structuredClone(tests);
    for (const t of summed.tests[0]!.promql_expr_test) t.expr = query.replace(/^max\(/, "sum(");
    await writeFile(path.join(scratch, "summed.test.yml"), JSON.stringify(summed));
    const wrong = await promtool(["test", "rules", "summed.test.yml"], scratch);
    expect(wrong.output).toMatch(/time: 3m,\s+exp: {} 1.2E\+04\s+got: {} 2.4E\+04/);
    expect(wrong.code).not.toBe(0);
  });
});
