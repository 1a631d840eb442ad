// promtool (Debian package prometheus) over the Prometheus files we ship: the alert rules and
// their unit tests, the scrape configurations, and every PromQL query of the Grafana dashboard.
// A missing promtool fails these tests rather than skipping them.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/platform/version";

const PROMETHEUS_DIR = path.join(PROJECT_ROOT, "deploy/prometheus");
const DASHBOARD = path.join(PROJECT_ROOT, "deploy/grafana/agenticorp.json");
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "agenticorp-promtool-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function promtool(args: string[], cwd = PROMETHEUS_DIR): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("promtool", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`promtool ${args.join(" ")} did not finish within 30 s`));
    }, 30_000);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === "ENOENT"
          ? new Error("promtool is not installed (Debian package prometheus): run scripts/install-system-deps.sh")
          : error,
      );
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * The file with each `kubernetes_sd_configs:` block replaced by a static target: Debian's
 * Prometheus is built without Kubernetes discovery and rejects the field, but everything else in
 * the file — relabelling included — can still be checked.
 */
function withoutKubernetesDiscovery(text: string): { text: string; blocks: string[] } {
  const lines = text.split("\n");
  const out: string[] = [];
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^(\s*(?:- )?)kubernetes_sd_configs:\s*$/.exec(lines[i]!);
    if (!match) {
      out.push(lines[i]!);
      continue;
    }
    const keyIndent = match[1]!.length;
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === "" || lines[i + 1]!.search(/\S/) > keyIndent))
      block.push(lines[++i]!);
    blocks.push(block.join("\n"));
    out.push(`${match[1]}static_configs:`, `${" ".repeat(keyIndent)}  - targets: ["127.0.0.1:8080"]`);
  }
  return { text: out.join("\n"), blocks };
}

interface DashboardPanel {
  title: string;
  type: string;
  targets?: Array<{ expr: string }>;
}

describe("deploy/prometheus", () => {
  it("alerts.yml passes promtool check rules", async () => {
    const result = await promtool(["check", "rules", "alerts.yml"]);
    expect(result.output).toContain("SUCCESS: 10 rules found");
    expect(result.code).toBe(0);
  });

  it("alerts.yml passes its unit tests (promtool test rules alerts.test.yml)", async () => {
    const result = await promtool(["test", "rules", "alerts.test.yml"]);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  it("the unit tests catch a wrong threshold", async () => {
    const rules = await readFile(path.join(PROMETHEUS_DIR, "alerts.yml"), "utf8");
    const broken = rules.replace(
      'rate(process_cpu_seconds_total{job="agenticorp"}[1m]) > 80',
      'rate(process_cpu_seconds_total{job="agenticorp"}[1m]) > 95',
    );
    expect(broken).not.toBe(rules);
    await writeFile(path.join(scratch, "alerts.yml"), broken);
    await writeFile(path.join(scratch, "alerts.test.yml"), await readFile(path.join(PROMETHEUS_DIR, "alerts.test.yml")));
    const result = await promtool(["test", "rules", "alerts.test.yml"], scratch);
    expect(result.output).toContain("AgentiCorpHighCPU");
    expect(result.code).not.toBe(0);
  });

  it("the unit tests catch a database alert that fires at once, and a staleness alert at the limit instead of half", async () => {
    const rules = await readFile(path.join(PROMETHEUS_DIR, "alerts.yml"), "utf8");
    await writeFile(path.join(scratch, "alerts.test.yml"), await readFile(path.join(PROMETHEUS_DIR, "alerts.test.yml")));
    for (const [from, to, alert] of [
      [
        'dependency="database"} == 0\n        for: 1m',
        'dependency="database"} == 0\n        for: 0m',
        "AgentiCorpDatabaseUnreachable",
      ],
      [
        "(0.5 * agenticorp_config_max_staleness_seconds",
        "(1 * agenticorp_config_max_staleness_seconds",
        "AgentiCorpConfigurationStale",
      ],
    ]) {
      const broken = rules.replace(from!, to!);
      expect(broken).not.toBe(rules);
      await writeFile(path.join(scratch, "alerts.yml"), broken);
      const result = await promtool(["test", "rules", "alerts.test.yml"], scratch);
      expect(result.output).toContain(alert);
      expect(result.code).not.toBe(0);
    }
  });

  it("prometheus.yml (static targets) passes promtool check config, with its rule file", async () => {
    const result = await promtool(["check", "config", "prometheus.yml"]);
    expect(result.output).toContain("is valid prometheus config file syntax");
    expect(result.output).toContain("SUCCESS: 10 rules found");
    expect(result.code).toBe(0);
  });

  it("prometheus-kubernetes.yml discovers pods and passes promtool check config apart from the discovery itself", async () => {
    const original = await readFile(path.join(PROMETHEUS_DIR, "prometheus-kubernetes.yml"), "utf8");
    const { text, blocks } = withoutKubernetesDiscovery(original);
    expect(blocks).toHaveLength(2);
    for (const block of blocks) expect(block).toMatch(/^\s*- role: pod$/m);
    expect(text).not.toContain("kubernetes_sd_configs");
    await writeFile(path.join(scratch, "prometheus-kubernetes.yml"), text);
    await writeFile(path.join(scratch, "alerts.yml"), await readFile(path.join(PROMETHEUS_DIR, "alerts.yml")));
    const result = await promtool(["check", "config", "prometheus-kubernetes.yml"], scratch);
    expect(result.output).toContain("is valid prometheus config file syntax");
    expect(result.code).toBe(0);
  });
});

describe("deploy/grafana/agenticorp.json", () => {
  it("has the console's panels", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { uid: string; panels: DashboardPanel[] };
    expect(dashboard.uid).toBe("agenticorp");
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of [
      "Requests per second (fleet)",
      "Requests per second by instance",
      "Latency percentiles",
      "Error rate (5xx share)",
      "Cache effectiveness",
      "In-flight requests by instance",
      "Open connections by instance",
      "CPU by instance (% of one core)",
      "Memory by instance",
      "Database query latency p95",
      "Database pool",
      "Instance health",
      "Batch queue",
    ]) {
      expect(titles).toContain(wanted);
    }
  });

  it("every panel query is valid PromQL (checked by promtool as recording rules)", async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { panels: DashboardPanel[] };
    const expressions = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(expressions.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    // Grafana's variables become what they stand for; JSON strings are valid YAML scalars.
    const rules = expressions.map(
      (expr, i) =>
        `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*"))}`,
    );
    await writeFile(path.join(scratch, "dashboard-rules.yml"), `groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}\n`);
    const result = await promtool(["check", "rules", "dashboard-rules.yml"], scratch);
    expect(result.output).toContain(`SUCCESS: ${expressions.length} rules found`);
    expect(result.code).toBe(0);
  });
});
