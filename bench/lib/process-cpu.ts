// CPU time a process has used (user + system, all its threads), read from /proc on Linux. Per
// request it is a steadier figure than a latency percentile on a shared, noisy machine.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

export function processCpuMs(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}
