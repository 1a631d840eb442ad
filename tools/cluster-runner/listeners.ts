// Which processes still accept connections on a port, read from Linux's /proc. After
// `nginx -s reload` the old workers keep accepting until each has handled its QUIT signal, and a
// connection one of them accepts is routed with the old upstreams, possibly to an instance that
// is about to drain. Elsewhere than Linux these readings are empty and nothing is waited for.
import { readdir, readFile, readlink } from "node:fs/promises";

const LISTEN_STATE = "0A";

/** The PIDs of `pid`'s children (the workers of an nginx master). */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return text.split(/\s+/).filter(Boolean).map(Number);
}

/** Waits until none of `pids` holds a socket listening on `port` (or has exited). */
export async function waitUntilNotListening(pids: readonly number[], port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const inodes = await listeningSocketInodes(port);
  let listening = inodes.size > 0 ? [...pids] : [];
  for (;;) {
    const stillHolding = await Promise.all(listening.map((pid) => holdsAnySocket(pid, inodes)));
    listening = listening.filter((_, i) => stillHolding[i]);
    if (listening.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`processes ${listening.join(", ")} still accept on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function listeningSocketInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    // Columns: sl local_address rem_address st … uid timeout inode; addresses are hex "ip:port".
    for (const line of text.split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 10 || columns[3] !== LISTEN_STATE) continue;
      if (parseInt(columns[1]!.split(":")[1]!, 16) === port) inodes.add(columns[9]!);
    }
  }
  return inodes;
}

async function holdsAnySocket(pid: number, inodes: ReadonlySet<string>): Promise<boolean> {
  const descriptors = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const descriptor of descriptors) {
    const target = await readlink(`/proc/${pid}/fd/${descriptor}`).catch(() => "");
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode !== undefined && inodes.has(inode)) return true;
  }
  return false;
}
