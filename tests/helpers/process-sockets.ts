// Which TCP connections a local process holds, from Linux's /proc: for counting each instance's
// database connections without the instances naming them (a per-instance application_name costs a
// SET per transaction through PgBouncer). Loopback measurement only.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface OpenConnection {
  localPort: number;
  remotePort: number;
}

/** Established TCP connections of `pid` (IPv4 and IPv6); empty when the process is gone. */
export function establishedConnections(pid: number): OpenConnection[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match) inodes.add(match[1]!);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const found: OpenConnection[] = [];
  for (const table of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode; state 01 is ESTABLISHED.
      if (fields.length < 10 || fields[3] !== "01" || !inodes.has(fields[9]!)) continue;
      found.push({ localPort: portOf(fields[1]!), remotePort: portOf(fields[2]!) });
    }
  }
  return found;
}

function portOf(address: string): number {
  return parseInt(address.split(":").at(-1)!, 16);
}
