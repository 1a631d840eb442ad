// Starts the real server (`node dist/server.mjs`, as in production) as a child process on a free port and
// reads its JSON log lines. Every process started here is stopped by the test that started it.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { PROJECT_ROOT, SERVER_BUNDLE } from "../../lib/platform/version";

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
  /**
   * Send stdout and stderr to this file instead of a pipe to this process, which then reads them by
   * polling the file. Benchmarks: a load generator reading a log line per request from a pipe
   * would spend its own event loop on the product's logging and count it as the product's latency.
   */
  logFile?: string;
  /** Extra node flags (profiling: --cpu-prof, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
  /** Another tree to run (an image's, built by tests/helpers/dockerfile-build.ts): its folder, bundle and user. */
  tree?: { cwd: string; bundle: string; uid?: number; gid?: number };
}

export async function startServer({
  env = {},
  waitFor = "ready",
  timeoutMs = 60_000,
  discardOutputAfterStart = false,
  nodeArgs = [],
  logFile,
  tree,
}: StartOptions = {}): Promise<ServerProcess> {
  const instanceId = (env.INSTANCE_ID as string) ?? `test-${randomBytes(4).toString("hex")}`;
  const logFd = logFile === undefined ? undefined : openSync(logFile, "w+");
  const child = spawn(process.execPath, [...nodeArgs, tree?.bundle ?? SERVER_BUNDLE], {
    cwd: tree?.cwd ?? PROJECT_ROOT,
    uid: tree?.uid,
    gid: tree?.gid,
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
    stdio: logFd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", logFd, logFd],
  });
  const logs: Array<Record<string, unknown>> = [];
  let raw = "";
  const waiters = new Set<() => void>();
  let buffered = "";
  let keeping = true;
  const onStdout = (chunk: Buffer) => {
    if (!keeping) return;
    raw += chunk.toString();
    buffered += chunk.toString();
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
  };
  const stopReading =
    logFd === undefined ? pipeOutput(child, onStdout, (chunk) => (raw += chunk.toString())) : pollFile(logFd, onStdout);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      stopReading();
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
  if (discardOutputAfterStart) {
    keeping = false;
    stopReading();
  }

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

function pipeOutput(child: ChildProcess, onStdout: (chunk: Buffer) => void, onStderr: (chunk: Buffer) => void): () => void {
  child.stdout!.on("data", onStdout);
  child.stderr!.on("data", onStderr);
  return () => {};
}

/** Reads what the child appends to `fd` every 50 ms; the returned function reads the rest, stops and closes it. */
function pollFile(fd: number, onData: (chunk: Buffer) => void): () => void {
  const buffer = Buffer.alloc(65_536);
  let position = 0;
  const readNew = () => {
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, position)) > 0; position += read) {
      onData(Buffer.from(buffer.subarray(0, read)));
    }
  };
  const timer = setInterval(readNew, 50);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    readNew();
    closeSync(fd);
  };
}
