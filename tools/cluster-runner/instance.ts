// One AgentiCorp instance of the local cluster: `node dist/server.mjs` on a port the
// system picks (PORT=0: no race for a free port), ready once its migrations are applied and
// /health/ready answers 200 — only then does the runner put it behind the balancer.
import http from "node:http";
import { PROJECT_ROOT, SERVER_BUNDLE } from "../../lib/platform/version";
import { startOwnedChild, type Environment, type ExitStatus, type OwnedChild } from "./child";

export type InstanceState = "starting" | "ready" | "draining" | "exited";

export type LogLine = Record<string, unknown> & { msg?: string; level?: number; time?: string };

export interface InstanceSpec {
  id: string;
  env: Environment;
  logFile: string;
  onLog?: (line: LogLine) => void;
}

/** What the runner reports about an instance. */
export interface InstanceInfo {
  id: string;
  pid: number;
  port: number | undefined;
  url: string | undefined;
  state: InstanceState;
  startedAt: Date;
  exit?: ExitStatus;
}

function readinessStatus(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/health/ready", agent: false, timeout: 2_000 }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode));
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(undefined));
  });
}

export class ClusterInstance {
  state: InstanceState = "starting";
  port: number | undefined;
  readonly startedAt = new Date();
  private readonly waiters = new Set<() => void>();
  private listening = false;
  private migrated = false;

  private constructor(
    readonly id: string,
    readonly process: OwnedChild,
  ) {}

  get pid(): number {
    return this.process.pid;
  }

  get url(): string | undefined {
    return this.port === undefined ? undefined : `http://127.0.0.1:${this.port}`;
  }

  get exited(): Promise<ExitStatus> {
    return this.process.exited;
  }

  info(): InstanceInfo {
    const exit = this.process.exitStatus();
    return {
      id: this.id,
      pid: this.pid,
      port: this.port,
      url: this.url,
      state: this.state,
      startedAt: this.startedAt,
      ...(exit ? { exit } : {}),
    };
  }

  static spawn(spec: InstanceSpec): ClusterInstance {
    let instance: ClusterInstance | undefined;
    const child = startOwnedChild({
      name: spec.id,
      command: process.execPath,
      args: [SERVER_BUNDLE],
      cwd: PROJECT_ROOT,
      env: spec.env,
      logFile: spec.logFile,
      onStdoutLine: (text) => {
        if (!text.startsWith("{")) return; // Next.js and Node print plain text too
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          return;
        }
        instance?.observe(line);
        spec.onLog?.(line);
      },
    });
    instance = new ClusterInstance(spec.id, child);
    void child.exited.then(() => {
      instance.state = "exited";
      instance.wake();
    });
    return instance;
  }

  private observe(line: LogLine): void {
    if (line.msg === "listening" && typeof line.url === "string") {
      this.port = Number(new URL(line.url).port);
      this.listening = true;
    } else if (typeof line.msg === "string" && line.msg.startsWith("migrations")) {
      this.migrated = true;
    } else return;
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  private until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (condition()) return finish(resolve);
        if (this.process.exitStatus()) {
          return finish(() => reject(new Error(`instance ${this.id} exited before ${what}:\n${this.process.tail()}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`instance ${this.id}: no ${what} within ${timeoutMs} ms:\n${this.process.tail()}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once the instance listens, has applied migrations and reports ready. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.until(() => this.listening && this.migrated, timeoutMs, "migrations");
    while ((await readinessStatus(this.port!)) !== 200) {
      if (this.process.exitStatus()) throw new Error(`instance ${this.id} exited before it was ready:\n${this.process.tail()}`);
      if (Date.now() > deadline) throw new Error(`instance ${this.id} not ready within ${timeoutMs} ms:\n${this.process.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (this.state === "starting") this.state = "ready";
  }

  /** SIGTERM: the instance drains (see lib/platform/process/drain.ts); SIGKILL if it outlives `graceMs`. */
  async drain(graceMs: number): Promise<ExitStatus> {
    if (this.state !== "exited") this.state = "draining";
    return this.process.stop("SIGTERM", graceMs);
  }

  /** SIGKILL at once: a crash, as the rest of the fleet sees it. */
  kill(): Promise<ExitStatus> {
    this.process.signal("SIGKILL");
    return this.process.exited;
  }
}
