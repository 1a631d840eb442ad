// Prometheus scraping the local cluster's instances. Targets live in a file_sd file that the
// runner rewrites on every scale step, so Prometheus follows the fleet without a restart.
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { startOwnedChild, type OwnedChild } from "./child";
import { waitForPort } from "./net";

export interface PrometheusSettings {
  binary: string;
  dir: string;
  port: number;
  scrapeIntervalS: number;
}

export interface ScrapeTarget {
  id: string;
  port: number;
}

const PROMETHEUS_JOB = "agenticorp";

export function renderPrometheusConfig(settings: PrometheusSettings): string {
  return [
    "# Written by the local cluster runner (tools/cluster-runner/prometheus.ts).",
    "global:",
    `  scrape_interval: ${settings.scrapeIntervalS}s`,
    `  evaluation_interval: ${settings.scrapeIntervalS}s`,
    "scrape_configs:",
    `  - job_name: ${PROMETHEUS_JOB}`,
    "    metrics_path: /metrics",
    "    file_sd_configs:",
    `      - files: ["${path.join(settings.dir, "targets.json")}"]`,
    "        refresh_interval: 5s",
    "",
  ].join("\n");
}

/** file_sd content: one group per instance, labelled with its id as the registry knows it. */
export function renderTargets(targets: readonly ScrapeTarget[]): string {
  return JSON.stringify(
    targets.map((t) => ({ targets: [`127.0.0.1:${t.port}`], labels: { instance_id: t.id } })),
    null,
    2,
  );
}

export class Prometheus {
  private constructor(
    readonly settings: PrometheusSettings,
    readonly process: OwnedChild,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.settings.port}`;
  }

  get configFile(): string {
    return path.join(this.settings.dir, "prometheus.yml");
  }

  static async start(settings: PrometheusSettings, targets: readonly ScrapeTarget[]): Promise<Prometheus> {
    await mkdir(path.join(settings.dir, "data"), { recursive: true });
    await writeFile(path.join(settings.dir, "prometheus.yml"), renderPrometheusConfig(settings));
    await writeTargets(settings, targets);
    const child = startOwnedChild({
      name: "prometheus",
      command: settings.binary,
      args: [
        `--config.file=${path.join(settings.dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(settings.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${settings.port}`,
        "--storage.tsdb.retention.time=1d",
      ],
      cwd: settings.dir,
      logFile: path.join(settings.dir, "prometheus.log"),
    });
    try {
      await waitForPort(settings.port, 20_000, () =>
        child.exitStatus() ? `prometheus exited at start:\n${child.tail()}` : undefined,
      );
    } catch (error) {
      await child.stop("SIGTERM", 2_000);
      throw error;
    }
    return new Prometheus(settings, child);
  }

  setTargets(targets: readonly ScrapeTarget[]): Promise<void> {
    return writeTargets(this.settings, targets);
  }

  async stop(graceMs = 10_000): Promise<void> {
    await this.process.stop("SIGTERM", graceMs);
  }
}

// Renamed into place so Prometheus never reads a half-written file.
async function writeTargets(settings: PrometheusSettings, targets: readonly ScrapeTarget[]): Promise<void> {
  const file = path.join(settings.dir, "targets.json");
  await writeFile(`${file}.next`, renderTargets(targets));
  await rename(`${file}.next`, file);
}
