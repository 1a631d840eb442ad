// nginx as the local cluster's load balancer: rendered from deploy/nginx/cluster.conf.template,
// run in the foreground as the runner's child, reloaded gracefully (`nginx -s reload`: new
// workers take new connections, old ones finish what they serve) whenever the instance set
// changes.
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile, rename } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { startOwnedChild, type OwnedChild } from "./child";
import { childPids, waitUntilNotListening } from "./listeners";
import { waitForPort } from "./net";

const run = promisify(execFile);

export const NGINX_TEMPLATE = path.join(PROJECT_ROOT, "deploy", "nginx", "cluster.conf.template");

export interface Upstream {
  /** The instance id, written next to its server line for whoever reads the rendered file. */
  id: string;
  port: number;
}

export interface NginxSettings {
  binary: string;
  /** Its own directory: configuration, pid, logs, temp files. */
  prefix: string;
  host: string;
  port: number;
  workerProcesses: number;
  /** Consecutive failed attempts that take an instance out of rotation for failTimeoutS. */
  maxFails: number;
  failTimeoutS: number;
  /** Must stay below the instances' drain deadline (see the template). */
  upstreamKeepaliveTimeoutS: number;
  /** The instances' DRAIN_TIMEOUT_MS, to check the rule above. */
  drainTimeoutMs: number;
  /** 0 disables client keep-alive (see the template for why the runner does). */
  clientKeepaliveTimeoutS: number;
  clientMaxBodySize: string;
}

/** Fills the template; throws on a placeholder left unfilled or a keep-alive that outlives the drain. */
export function renderNginxConfig(
  template: string,
  settings: NginxSettings,
  upstreams: readonly Upstream[],
  generation: number,
): string {
  if (settings.upstreamKeepaliveTimeoutS * 1000 >= settings.drainTimeoutMs) {
    throw new RangeError(
      `nginx upstream keepalive_timeout (${settings.upstreamKeepaliveTimeoutS} s) must be shorter than the instances' drain deadline (${settings.drainTimeoutMs} ms)`,
    );
  }
  const servers = upstreams.length
    ? upstreams.map(
        (u) =>
          `        server 127.0.0.1:${u.port} max_fails=${settings.maxFails} fail_timeout=${settings.failTimeoutS}s;  # ${u.id}`,
      )
    : // nginx needs at least one server; with none, answer 502 at once rather than refuse to load.
      ["        server 127.0.0.1:9 down;  # no instance"];
  const values: Record<string, string> = {
    prefix: settings.prefix,
    listen: `${settings.host}:${settings.port}`,
    worker_processes: String(settings.workerProcesses),
    servers: servers.join("\n"),
    upstream_keepalive_timeout_s: String(settings.upstreamKeepaliveTimeoutS),
    drain_timeout_s: String(settings.drainTimeoutMs / 1000),
    client_keepalive_timeout_s: String(settings.clientKeepaliveTimeoutS),
    client_max_body_size: settings.clientMaxBodySize,
    generation: String(generation),
  };
  const rendered = template.replace(/\{\{(\w+)\}\}/g, (match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`nginx template: unknown placeholder ${match}`);
    return value;
  });
  return rendered;
}

function getText(port: number, pathname: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    // agent: false opens a fresh connection each time: a kept-alive one stays with its old worker.
    const request = http.get({ host: "127.0.0.1", port, path: pathname, agent: false, timeout: 1_000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve(response.statusCode === 200 ? body.trim() : undefined));
      response.on("error", () => resolve(undefined));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(undefined));
  });
}

function configFile(settings: NginxSettings): string {
  return path.join(settings.prefix, "nginx.conf");
}

function commonArgs(settings: NginxSettings): string[] {
  return ["-p", `${settings.prefix}/`, "-c", configFile(settings), "-e", path.join(settings.prefix, "logs", "error.log")];
}

async function writeConfig(
  settings: NginxSettings,
  template: string,
  upstreams: readonly Upstream[],
  generation: number,
): Promise<void> {
  const text = renderNginxConfig(template, settings, upstreams, generation);
  const temporary = `${configFile(settings)}.next`;
  await writeFile(temporary, text);
  await rename(temporary, configFile(settings));
}

/** `nginx -t` on the current file: a broken configuration never reaches a (re)load. */
async function testConfig(settings: NginxSettings): Promise<void> {
  try {
    await run(settings.binary, ["-t", "-q", ...commonArgs(settings)]);
  } catch (error) {
    throw new Error(
      `nginx -t rejected ${configFile(settings)}: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`,
    );
  }
}

export class Nginx {
  private constructor(
    readonly settings: NginxSettings,
    private readonly template: string,
    readonly process: OwnedChild,
    private generation: number,
  ) {}

  get url(): string {
    return `http://${this.settings.host === "0.0.0.0" ? "127.0.0.1" : this.settings.host}:${this.settings.port}`;
  }

  get configFile(): string {
    return configFile(this.settings);
  }

  static async start(settings: NginxSettings, upstreams: readonly Upstream[]): Promise<Nginx> {
    for (const dir of ["logs", "temp"]) await mkdir(path.join(settings.prefix, dir), { recursive: true });
    const template = await readFile(NGINX_TEMPLATE, "utf8");
    await writeConfig(settings, template, upstreams, 1);
    await testConfig(settings);
    const child = startOwnedChild({
      name: "nginx",
      command: settings.binary,
      args: [...commonArgs(settings), "-g", "daemon off;"],
      cwd: settings.prefix,
    });
    const nginx = new Nginx(settings, template, child, 1);
    try {
      await waitForPort(settings.port, 10_000, () =>
        child.exitStatus() ? `nginx exited at start:\n${child.tail()}` : undefined,
      );
      await nginx.waitForGeneration(10_000);
    } catch (error) {
      await child.stop("SIGTERM", 2_000);
      throw error;
    }
    return nginx;
  }

  /**
   * Points nginx at `upstreams`; returns once new connections are served only by the new workers:
   * the new generation answers, and no old worker still accepts (they may still finish requests
   * they accepted before).
   */
  async update(upstreams: readonly Upstream[]): Promise<void> {
    if (this.process.exitStatus()) throw new Error(`nginx is not running:\n${this.process.tail()}`);
    const generation = this.generation + 1;
    await writeConfig(this.settings, this.template, upstreams, generation);
    await testConfig(this.settings);
    this.generation = generation;
    const oldWorkers = await childPids(this.process.pid);
    await run(this.settings.binary, [...commonArgs(this.settings), "-s", "reload"]);
    await this.waitForGeneration(10_000);
    await waitUntilNotListening(oldWorkers, this.settings.port, 10_000);
  }

  private async waitForGeneration(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const wanted = String(this.generation);
    while (Date.now() < deadline) {
      if ((await getText(this.settings.port, "/__cluster/generation")) === wanted) return;
      if (this.process.exitStatus()) throw new Error(`nginx exited:\n${this.process.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`nginx did not load configuration generation ${wanted} within ${timeoutMs} ms:\n${this.process.tail()}`);
  }

  /** Graceful stop (SIGQUIT: open requests finish), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    await this.process.stop("SIGQUIT", graceMs);
  }
}
