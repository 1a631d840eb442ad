// The memory this process may use, so that memory use can be read as a share of it (the alert
// "memory > 90%" needs a denominator). In a container that is the cgroup's limit; without one, the
// machine's memory.
import { readFileSync } from "node:fs";
import os from "node:os";
import client from "prom-client";
import { metric, registry } from "./registry";

// cgroup v1 reports "no limit" as a huge number rather than "max".
const UNLIMITED_V1 = 2 ** 60;

function readLimit(file: string): number | null {
  try {
    const text = readFileSync(file, "utf8").trim();
    const value = Number(text);
    return text !== "max" && Number.isFinite(value) && value > 0 && value < UNLIMITED_V1 ? value : null;
  } catch {
    return null;
  }
}

/** The cgroup v2 or v1 memory limit, else the machine's total memory; read once. */
export function memoryLimitBytes(): number {
  return readLimit("/sys/fs/cgroup/memory.max") ?? readLimit("/sys/fs/cgroup/memory/memory.limit_in_bytes") ?? os.totalmem();
}

const limit = memoryLimitBytes();

metric(
  "agenticorp_process_memory_limit_bytes",
  () =>
    new client.Gauge({
      name: "agenticorp_process_memory_limit_bytes",
      help: "Memory this process may use: its cgroup's limit, or the machine's total memory when it has none.",
      registers: [registry],
      collect() {
        this.set(limit);
      },
    }),
);
