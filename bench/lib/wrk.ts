// Running wrk, reading its text report (`wrk --latency`) and summarising runs. The parsing is
// pure, so it is unit-tested against captured output (tests/unit/wrk-parse.test.ts).
import { spawn } from "node:child_process";

export interface WrkReport {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p75: number; p90: number; p99: number };
  /** Responses outside 2xx/3xx; a run with any is not a measurement of the healthy path. */
  non2xx3xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

// wrk prints times with the largest unit that keeps the number ≥ 1 (its format_time).
const TIME_UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "586.00us" → 0.586, "1.10ms" → 1.1, "2.00s" → 2000 (milliseconds). */
export function parseWrkTime(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`not a wrk time: ${JSON.stringify(text)}`);
  return Number(match[1]) * TIME_UNIT_MS[match[2]!]!;
}

function required(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(output);
  if (!match) throw new Error(`wrk output has no ${what} (was --latency given, did the run fail?):\n${output.slice(0, 1_000)}`);
  return match;
}

export function parseWrkOutput(output: string): WrkReport {
  const percentile = (p: number) =>
    parseWrkTime(required(output, new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, "m"), `${p}% latency line`)[1]!);
  const total = required(output, /^\s*(\d+) requests in ([\d.]+\w+),/m, "request total");
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests: Number(total[1]),
    durationSeconds: parseWrkTime(total[2]!) / 1_000,
    requestsPerSecond: Number(required(output, /^Requests\/sec:\s+([\d.]+)\s*$/m, "Requests/sec line")[1]),
    latencyMs: { p50: percentile(50), p75: percentile(75), p90: percentile(90), p99: percentile(99) },
    non2xx3xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
  };
}

/** Why a run cannot be counted, or undefined when every request got a 2xx/3xx answer. */
export function runProblem(report: WrkReport): string | undefined {
  const { connect, read, write, timeout } = report.socketErrors;
  const socketErrors = connect + read + write + timeout;
  if (report.non2xx3xx > 0) return `${report.non2xx3xx} responses were not 2xx/3xx`;
  if (socketErrors > 0) return `socket errors: connect ${connect}, read ${read}, write ${write}, timeout ${timeout}`;
  return undefined;
}

export interface RunSummary {
  runs: number;
  /** Mean of the runs' requests/s. */
  requestsPerSecond: number;
  /** Medians of the runs' percentiles (one slow run does not move them much). */
  p50Ms: number;
  p99Ms: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(reports: WrkReport[]): RunSummary {
  if (reports.length === 0) throw new Error("no runs to summarise");
  return {
    runs: reports.length,
    requestsPerSecond: reports.reduce((sum, r) => sum + r.requestsPerSecond, 0) / reports.length,
    p50Ms: median(reports.map((r) => r.latencyMs.p50)),
    p99Ms: median(reports.map((r) => r.latencyMs.p99)),
  };
}

/**
 * Runs wrk without blocking this process: the servers under test are its children, and their
 * output pipes must keep draining during the run (a blocked parent would stall their logging, as
 * no production log collector does).
 */
export function runWrk(args: string[], url: string, env: Record<string, string> = {}): Promise<string> {
  const seconds = Number(/^-d(\d+)s$/.exec(args.find((a) => a.startsWith("-d")) ?? "")?.[1] ?? 10);
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", [...args, url], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), (seconds + 15) * 1_000);
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error("wrk is not installed (Debian package wrk): run scripts/install-system-deps.sh")
          : error,
      ),
    );
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`wrk ${args.join(" ")} ${url} failed (${signal ?? `code ${code}`}):\n${output}`));
    });
  });
}
