// A diagnostic for latency benchmarks on a virtual machine: one spinning process per core at
// SCHED_IDLE priority, so that no core ever halts. A halted virtual CPU takes a while to wake when
// a packet arrives for a process on it, and every proxy hop pays that wake-up twice. The spinners
// run only when nothing else wants the core, so they take no CPU from the processes measured; what
// the run then shows is the latency without those wake-ups. Each spinner stops by itself after
// `maxSeconds`, and `stop()` ends them sooner.
import { spawn, spawnSync } from "node:child_process";
import os from "node:os";

export function keepCoresAwake(maxSeconds: number): { stop(): void } {
  if (spawnSync("chrt", ["--idle", "0", "true"]).status !== 0) {
    throw new Error("keeping the cores awake needs chrt (util-linux) and permission to use SCHED_IDLE");
  }
  const spinners = Array.from({ length: os.availableParallelism() }, () =>
    spawn("chrt", ["--idle", "0", "timeout", String(Math.ceil(maxSeconds)), "sh", "-c", "while :; do :; done"], {
      stdio: "ignore",
    }),
  );
  return {
    stop() {
      // chrt becomes timeout, which passes the signal on to its shell. Node sends nothing to a
      // child that has already exited.
      for (const spinner of spinners) spinner.kill("SIGTERM");
    },
  };
}
