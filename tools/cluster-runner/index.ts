// The local cluster runner: N AgentiCorp instances on one machine behind nginx, sharing one
// PostgreSQL (optionally through PgBouncer), optionally scraped by Prometheus. Used by
// `npm run cluster` (scripts/cluster.ts), by the failure tests, and by the scaling `local` target
// (through the control endpoint, tools/cluster-runner/control.ts).
//
// Scaling out: start the instances, wait until each is ready, then reload nginx with them.
// Scaling in (default order): reload nginx without the instance first, then SIGTERM it, so it
// drains only what it already has. Every change to the instance set is serialized.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { displayUrl, ensureDatabase, DEFAULT_CLUSTER_DATABASE_URL } from "./database";
import type { Environment } from "./child";
import { ClusterInstance, type InstanceInfo, type LogLine } from "./instance";
import { freePort, portIsFree, preferredOrFreePort } from "./net";
import { Nginx, type NginxSettings } from "./nginx";
import { PgBouncer } from "./pgbouncer";
import { Prometheus } from "./prometheus";
import { startControlServer, type ControlServer } from "./control";

export type { InstanceInfo, LogLine } from "./instance";

export interface ClusterOptions {
  /** Instances to start with (default 3). */
  instances?: number;
  /** The balancer's port (default 8080; 0 picks a free one). */
  port?: number;
  /** The balancer's address (default 127.0.0.1). */
  host?: string;
  /** PostgreSQL; default the local server's agenticorp_cluster database, created if missing. */
  databaseUrl?: string;
  /** Put PgBouncer (transaction pooling) between the instances and PostgreSQL. */
  pgbouncer?: boolean;
  /** Start Prometheus scraping every instance (and point the instances' PROMETHEUS_URL at it). */
  prometheus?: boolean;
  /** Prometheus' port when free (default 9090). */
  prometheusPort?: number;
  /** Shared by every instance; default kept in `.data/cluster-secret` across runs. */
  secret?: string;
  /** Serve the console from each instance (default true; needs a console build). */
  console?: boolean;
  /** Environment for every instance, under the runner's own settings (PORT, DATABASE_URL, ...). */
  env?: Environment;
  /** Instance ids are `${idPrefix}-1`, `-2`, ... (default "local"). */
  idPrefix?: string;
  /** Configuration, logs and data of this run; default a new temporary directory, removed at stop. */
  runDir?: string;
  /** Keep the run directory at stop (default: keep only one that was given). */
  keepRunDir?: boolean;
  /** Serve the control endpoint that the scaling `local` target drives (default true). */
  control?: boolean;
  /** nginx tuning; defaults suit a laptop. */
  balancer?: Partial<
    Pick<NginxSettings, "maxFails" | "failTimeoutS" | "upstreamKeepaliveTimeoutS" | "clientKeepaliveTimeoutS" | "workerProcesses">
  >;
  binaries?: { nginx?: string; pgbouncer?: string; prometheus?: string };
  /** Every JSON log line of every instance. */
  onLog?: (instance: InstanceInfo, line: LogLine) => void;
  /** Progress in words: started, scaled, an instance exited on its own, ... */
  onEvent?: (message: string) => void;
  /** Ready timeout per instance (default 90 s: a first start may build nothing but migrate). */
  readyTimeoutMs?: number;
  /**
   * Start at most this many instances at a time, each wave once the previous one is ready
   * (default: all at once). Tens of Node processes starting together on a small machine take
   * longer in all than in waves, and may miss their ready timeout.
   */
  startWave?: number;
}

export interface RemoveOptions {
  /**
   * "balancer-first" (default): out of nginx, then SIGTERM. "signal-first": SIGTERM while nginx
   * still routes to it (as when Kubernetes sends SIGTERM before every balancer has caught up);
   * the instance then refuses new connections and nginx retries them elsewhere.
   */
  order?: "balancer-first" | "signal-first";
}

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export class LocalCluster {
  private readonly members = new Map<string, ClusterInstance>();
  private readonly expectedExits = new Set<string>();
  private sequence = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private nginx: Nginx | undefined;
  private pgbouncer: PgBouncer | undefined;
  private prometheus: Prometheus | undefined;
  private control: ControlServer | undefined;
  private runDirectory = "";
  private ownRunDir = false;
  private secret = "";
  private stopping: Promise<void> | undefined;
  /** PostgreSQL as the instances reach it (PgBouncer's address with --pgbouncer). */
  databaseUrl = "";
  /** PostgreSQL itself: LISTEN/NOTIFY, and anything that needs a session. */
  directDatabaseUrl = "";

  constructor(readonly options: ClusterOptions = {}) {}

  /** The balancer's base URL: what clients use. */
  get url(): string {
    if (!this.nginx) throw new Error("the cluster is not started");
    return this.nginx.url;
  }

  get prometheusUrl(): string | undefined {
    return this.prometheus?.url;
  }

  /** For the scaling `local` target: set as LOCAL_CLUSTER_URL in every instance. */
  get controlUrl(): string | undefined {
    return this.control?.url;
  }

  get runDir(): string {
    return this.runDirectory;
  }

  get nginxConfigFile(): string | undefined {
    return this.nginx?.configFile;
  }

  /** PgBouncer's admin console, when the cluster runs with one. */
  get pooler(): PgBouncer | undefined {
    return this.pgbouncer;
  }

  private get drainTimeoutMs(): number {
    const given = Number(this.options.env?.DRAIN_TIMEOUT_MS);
    return Number.isFinite(given) && given > 0 ? given : DEFAULT_DRAIN_TIMEOUT_MS;
  }

  private event(message: string): void {
    this.options.onEvent?.(message);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  async start(): Promise<this> {
    const options = this.options;
    this.ownRunDir = !options.runDir;
    this.runDirectory = options.runDir ?? (await mkdtemp(path.join(os.tmpdir(), "agenticorp-cluster-")));
    await mkdir(path.join(this.runDirectory, "instances"), { recursive: true });
    // Helpers that drop privileges (PgBouncer) must be able to reach their files.
    await chmod(this.runDirectory, 0o755);
    try {
      const balancerPort = options.port === 0 ? await freePort() : (options.port ?? 8080);
      // Before any instance starts: a taken port would otherwise only show once they are all up.
      if (!(await portIsFree(balancerPort))) throw new Error(`port ${balancerPort} is in use: choose another with --port`);
      this.secret = options.secret ?? (await persistentSecret());
      const direct = options.databaseUrl ?? DEFAULT_CLUSTER_DATABASE_URL;
      if ((await ensureDatabase(direct)) === "created") this.event(`created database ${new URL(direct).pathname.slice(1)}`);
      this.directDatabaseUrl = direct;
      this.databaseUrl = direct;
      if (options.pgbouncer) {
        const server = new URL(direct);
        this.pgbouncer = await PgBouncer.start({
          binary: options.binaries?.pgbouncer ?? "/usr/sbin/pgbouncer",
          dir: path.join(this.runDirectory, "pgbouncer"),
          port: await freePort(),
          server: {
            host: server.hostname,
            port: Number(server.port || 5432),
            user: decodeURIComponent(server.username || "postgres"),
            ...(server.password ? { password: decodeURIComponent(server.password) } : {}),
          },
          databases: [decodeURIComponent(server.pathname.slice(1))],
        });
        this.databaseUrl = this.pgbouncer.urlFor(direct);
        this.event(`PgBouncer (transaction pooling) on ${displayUrl(this.databaseUrl)}`);
      }
      if (options.prometheus) {
        this.prometheus = await Prometheus.start(
          {
            binary: options.binaries?.prometheus ?? "/usr/bin/prometheus",
            dir: path.join(this.runDirectory, "prometheus"),
            port: await preferredOrFreePort(options.prometheusPort ?? 9090),
            scrapeIntervalS: 5,
          },
          [],
        );
        this.event(`Prometheus on ${this.prometheus.url}`);
      }
      if (options.control !== false) {
        this.control = await startControlServer(this);
      }
      const started = await this.startInstances(options.instances ?? 3);
      const balancer = options.balancer ?? {};
      this.nginx = await Nginx.start(
        {
          binary: options.binaries?.nginx ?? "/usr/sbin/nginx",
          prefix: path.join(this.runDirectory, "nginx"),
          host: options.host ?? "127.0.0.1",
          port: balancerPort,
          workerProcesses: balancer.workerProcesses ?? 1,
          maxFails: balancer.maxFails ?? 1,
          failTimeoutS: balancer.failTimeoutS ?? 2,
          upstreamKeepaliveTimeoutS:
            balancer.upstreamKeepaliveTimeoutS ?? Math.max(1, Math.min(10, Math.floor(this.drainTimeoutMs / 3000))),
          drainTimeoutMs: this.drainTimeoutMs,
          clientKeepaliveTimeoutS: balancer.clientKeepaliveTimeoutS ?? 0,
          clientMaxBodySize: "2m",
        },
        this.upstreams(),
      );
      await this.prometheus?.setTargets(this.upstreams());
      this.event(`nginx on ${this.nginx.url} in front of ${started.map((i) => `${i.id} (:${i.port})`).join(", ")}`);
      return this;
    } catch (error) {
      await this.stop().catch(() => {});
      throw error;
    }
  }

  /** Every instance this runner started and has not forgotten, in start order. */
  instances(): InstanceInfo[] {
    return [...this.members.values()].map((i) => i.info());
  }

  /** Every process this runner started and that still runs: name and PID. */
  processes(): Array<{ name: string; pid: number }> {
    const owned = [
      this.nginx?.process,
      this.pgbouncer?.process,
      this.prometheus?.process,
      ...[...this.members.values()].map((i) => i.process),
    ];
    return owned.filter((p) => p !== undefined && !p.exitStatus()).map((p) => ({ name: p!.name, pid: p!.pid }));
  }

  /** The instance process with this id (tests signal it directly). */
  instance(id: string): ClusterInstance {
    const found = this.members.get(id);
    if (!found) throw new Error(`no instance ${id} in this cluster`);
    return found;
  }

  /** Starts one more instance and puts it behind the balancer once it is ready. */
  async addInstance(): Promise<InstanceInfo> {
    const [added] = await this.addInstances(1);
    return added!;
  }

  /** Starts `count` more instances, with `env` on top of the cluster's own for these only (e.g. a console-serving one). */
  addInstances(count: number, env: Environment = {}): Promise<InstanceInfo[]> {
    return this.serialized(async () => {
      const started = await this.startInstances(count, env);
      await this.applyUpstreams();
      this.event(`added ${started.map((i) => `${i.id} (:${i.port})`).join(", ")}`);
      return started.map((i) => i.info());
    });
  }

  /** Takes an instance (default the newest) out of rotation and drains it; resolves once it exited. */
  removeInstance(id?: string, options: RemoveOptions = {}): Promise<InstanceInfo> {
    return this.serialized(async () => {
      const victim = id ? this.members.get(id) : this.serving().at(-1);
      if (!victim || victim.state === "exited") throw new Error(id ? `no running instance ${id}` : "no instance to remove");
      await this.drainOut([victim], options);
      return victim.info();
    });
  }

  /** Adds or removes instances until `replicas` serve. */
  scaleTo(replicas: number, options: RemoveOptions = {}): Promise<InstanceInfo[]> {
    if (!Number.isInteger(replicas) || replicas < 0)
      return Promise.reject(new RangeError(`replicas must be a whole number ≥ 0 (got ${replicas})`));
    return this.serialized(async () => {
      const serving = this.serving();
      if (replicas > serving.length) {
        const started = await this.startInstances(replicas - serving.length);
        await this.applyUpstreams();
        this.event(`scaled to ${replicas}: added ${started.map((i) => i.id).join(", ")}`);
      } else if (replicas < serving.length) {
        const victims = serving.slice(replicas);
        await this.drainOut(victims, options);
        this.event(`scaled to ${replicas}: removed ${victims.map((i) => i.id).join(", ")}`);
      }
      return this.instances();
    });
  }

  /** Drains every instance, then stops nginx, PgBouncer and Prometheus (each by its own PID). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.queue;
      await this.control?.close();
      const running = [...this.members.values()].filter((i) => i.state !== "exited");
      for (const instance of running) this.expectedExits.add(instance.id);
      await Promise.all(running.map((i) => i.drain(this.drainTimeoutMs + 5_000)));
      await this.nginx?.stop();
      await this.pgbouncer?.stop();
      await this.prometheus?.stop();
      if (this.ownRunDir && !this.options.keepRunDir && this.runDirectory)
        await rm(this.runDirectory, { recursive: true, force: true });
      this.event("stopped");
    })();
    return this.stopping;
  }

  /** Instances that serve or are about to (not draining, not exited), in start order. */
  private serving(): ClusterInstance[] {
    return [...this.members.values()].filter((i) => i.state === "ready" || i.state === "starting");
  }

  private upstreams() {
    return [...this.members.values()].filter((i) => i.state === "ready").map((i) => ({ id: i.id, port: i.port! }));
  }

  private async applyUpstreams(): Promise<void> {
    await this.nginx?.update(this.upstreams());
    await this.prometheus?.setTargets(this.upstreams());
  }

  private async startInstances(count: number, env: Environment = {}): Promise<ClusterInstance[]> {
    const wave = this.options.startWave ?? count;
    const started: ClusterInstance[] = [];
    for (let done = 0; done < count; done += wave) started.push(...(await this.startWaveOf(Math.min(wave, count - done), env)));
    return started;
  }

  private async startWaveOf(count: number, env: Environment): Promise<ClusterInstance[]> {
    const prefix = this.options.idPrefix ?? "local";
    const spawned = Array.from({ length: count }, () => {
      const id = `${prefix}-${++this.sequence}`;
      const instance = ClusterInstance.spawn({
        id,
        env: this.instanceEnv(id, env),
        logFile: path.join(this.runDirectory, "instances", `${id}.log`),
        onLog: this.options.onLog ? (line) => this.options.onLog!(instance.info(), line) : undefined,
      });
      this.members.set(id, instance);
      void instance.exited.then((status) => this.exitedOnItsOwn(instance, status.code, status.signal));
      return instance;
    });
    const results = await Promise.allSettled(spawned.map((i) => i.waitUntilReady(this.options.readyTimeoutMs ?? 90_000)));
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      for (const instance of spawned) {
        this.expectedExits.add(instance.id);
        await instance.kill();
        this.members.delete(instance.id);
      }
      throw failed.reason;
    }
    return spawned;
  }

  private async drainOut(victims: ClusterInstance[], { order = "balancer-first" }: RemoveOptions): Promise<void> {
    for (const victim of victims) {
      this.expectedExits.add(victim.id);
      if (order === "balancer-first") victim.state = "draining";
    }
    const drain = () => Promise.all(victims.map((v) => v.drain(this.drainTimeoutMs + 5_000)));
    if (order === "balancer-first") {
      await this.applyUpstreams();
      await drain();
    } else {
      const drained = drain();
      await this.applyUpstreams();
      await drained;
    }
    for (const victim of victims) this.members.delete(victim.id);
  }

  private exitedOnItsOwn(instance: ClusterInstance, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.expectedExits.has(instance.id) || this.stopping) return;
    this.event(
      `instance ${instance.id} (pid ${instance.pid}) exited on its own (${signal ?? `code ${code}`}); taking it out of the balancer`,
    );
    void this.serialized(async () => {
      this.members.delete(instance.id);
      await this.applyUpstreams();
    }).catch((error: Error) => this.event(`could not update the balancer: ${error.message}`));
  }

  private instanceEnv(id: string, extra: Environment = {}): Environment {
    const managed: Environment = {
      PORT: "0",
      HOST: "127.0.0.1",
      INSTANCE_ID: id,
      SECRET: this.secret,
      DATABASE_URL: this.databaseUrl,
      DATABASE_DIRECT_URL: this.directDatabaseUrl,
      ...(this.prometheus ? { PROMETHEUS_URL: this.prometheus.url } : {}),
      ...(this.control ? { LOCAL_CLUSTER_URL: this.control.url } : {}),
    };
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      SEED_SIMULATOR: "true",
      // Instances listen on 127.0.0.1 behind the runner's nginx, which sets X-Forwarded-For: sign-in
      // throttling then counts each client rather than one shared budget for nginx's address.
      TRUSTED_PROXIES: "loopback",
      CONSOLE_ENABLED: this.options.console === false ? "false" : "true",
      ...this.options.env,
      ...extra,
      ...managed,
    };
  }
}

/** One secret for every run of the local cluster, so providers stored encrypted stay readable. */
async function persistentSecret(): Promise<string> {
  const file = path.join(PROJECT_ROOT, ".data", "cluster-secret");
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  await writeFile(file, secret + "\n", { mode: 0o600 });
  return secret;
}
