// A child process the local cluster runner owns: started in its own process group, so that a
// Ctrl-C in the terminal reaches only the runner, which then stops everything in the right order
// (instances drain behind a still-running balancer); signalled only by its own PID.
import { spawn, type SpawnOptions } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";

/** Environment variables for a child: unset ones are left out. */
export type Environment = Record<string, string | undefined>;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface OwnedChild {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  /** The exit status once the process has exited, else undefined. */
  exitStatus(): ExitStatus | undefined;
  /** Sends `signal` to this process only (never to a name or a group); false if already gone. */
  signal(signal: NodeJS.Signals): boolean;
  /** Sends `signal`, waits up to `graceMs`, then SIGKILL; resolves when the process is gone. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<ExitStatus>;
  /** The last lines of its output, for error messages. */
  tail(lines?: number): string;
}

export interface OwnedChildOptions {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: Environment;
  /** Every output line goes here as well (appended). */
  logFile?: string;
  /** Called with each complete stdout line. */
  onStdoutLine?: (line: string) => void;
  /** Called with each complete stderr line. */
  onStderrLine?: (line: string) => void;
}

const TAIL_LINES = 200;

// Children still running when the runner's process exits for any reason are killed, so an
// unexpected runner exit does not leave a fleet behind. Only PIDs this module started are listed.
const running = new Set<OwnedChild>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) child.signal("SIGKILL");
  });
}

export function startOwnedChild(options: OwnedChildOptions): OwnedChild {
  installExitHook();
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env as NodeJS.ProcessEnv | undefined,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  };
  const child = spawn(options.command, options.args, spawnOptions);
  if (child.pid === undefined) {
    // spawn reports ENOENT and the like asynchronously; the pid is missing synchronously then.
    throw new Error(`could not start ${options.name}: ${options.command} ${options.args.join(" ")}`);
  }
  const pid = child.pid;
  const log: WriteStream | undefined = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > TAIL_LINES) recent.shift();
  };
  const lineReader = (onLine?: (line: string) => void) => {
    let buffered = "";
    return (chunk: Buffer) => {
      log?.write(chunk);
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        remember(line);
        onLine?.(line);
      }
    };
  };
  child.stdout!.on("data", lineReader(options.onStdoutLine));
  child.stderr!.on("data", lineReader(options.onStderrLine));

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => {
      status = { code, signal };
      running.delete(handle);
      log?.end();
      resolve(status);
    });
  });
  child.once("error", (error) => remember(`[runner] ${options.name}: ${error.message}`));

  const handle: OwnedChild = {
    name: options.name,
    pid,
    exited,
    exitStatus: () => status,
    signal(signal) {
      if (status) return false;
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    async stop(signal, graceMs) {
      if (status) return status;
      handle.signal(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), graceMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first === "timeout") handle.signal("SIGKILL");
      return exited;
    },
    tail(lines = 40) {
      return recent.slice(-lines).join("\n");
    },
  };
  running.add(handle);
  return handle;
}
