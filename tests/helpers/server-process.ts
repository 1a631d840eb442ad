// Starts the real server (`node dist/server.mjs`, as in production) as a child process on a free port and
// reads its JSON log lines. Every process started here is stopped by the test that started it.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { PROJECT_ROOT, SERVER_BUNDLE } from "../../lib/version";

export interface ServerProcess {
  url: string;
  instanceId: string;
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  /** Raw stdout and stderr, for failure messages. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Resolve once "migrations ... applied" is logged (default) or as soon as it listens. */
  waitFor?: "ready" | "listening";
  timeoutMs?: number;
  /** Stop keeping output once started (benchmarks: a log line per request would pile up here). */
  discardOutputAfterStart?: boolean;
  /** Extra node flags (profiling: --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

export async function startServer({ env = {}, waitFor = "ready", timeoutMs = 60_000, discardOutputAfterStart = false, nodeArgs = [] }: StartOptions = {}): Promise<ServerProcess> {
  const instanceId = (env.INSTANCE_ID as string) ?? `test-${randomBytes(4).toString("hex")}`;
  const child = spawn(process.execPath, [...nodeArgs, SERVER_BUNDLE], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: "production",
      PORT: "0",
      HOST: "127.0.0.1",
      INSTANCE_ID: instanceId,
      SECRET: "test-secret-0123456789abcdef0123456789abcdef",
      LOG_LEVEL: "info",
      NEXT_TELEMETRY_DISABLED: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Array<Record<string, unknown>> = [];
  let raw = "";
  const waiters = new Set<() => void>();
  let buffered = "";
  let keeping = true;
  child.stdout!.on("data", (chunk: Buffer) => {
    if (!keeping) return;
    raw += chunk;
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        // not a log line (Next.js prints plain text)
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    raw += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    }),
  );

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, ms = timeoutMs) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) return done(() => resolve(found));
        if (child.exitCode !== null || child.signalCode !== null) {
          return done(() => reject(new Error(`server exited before the expected log line:\n${raw.slice(-3000)}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for a log line:\n${raw.slice(-3000)}`))), ms);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((line) => line.msg === "listening");
    if (waitFor === "ready") await waitForLog((line) => typeof line.msg === "string" && line.msg.startsWith("migrations"));
  } catch (error) {
    // A server that did not come up is not left running behind a failed test.
    child.kill("SIGKILL");
    throw error;
  }
  if (discardOutputAfterStart) keeping = false;

  return {
    url: String(listening.url),
    instanceId,
    child,
    logs,
    output: () => raw,
    exited,
    waitForLog,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
