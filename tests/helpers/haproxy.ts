// The shipped HAProxy example (deploy/haproxy/haproxy.cfg) run in front of real instances, only
// its bind address and server addresses rewritten, so the tests exercise the file users deploy.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startOwnedChild, type OwnedChild } from "../../tools/cluster-runner/child";
import { freePort, waitForPort } from "../../tools/cluster-runner/net";
import { PROJECT_ROOT } from "../../lib/platform/version";

export interface ExampleHaproxy {
  /** What clients use: http://127.0.0.1:port */
  readonly url: string;
  /** Server state changes HAProxy reported so far ("Server agenticorp/i2 is DOWN, reason: ..."). */
  serverStateChanges(): string[];
  stop(): Promise<void>;
}

/** Starts /usr/sbin/haproxy with the example configuration, one `server` line per given port. */
export async function startExampleHaproxy(instancePorts: number[]): Promise<ExampleHaproxy> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "agenticorp-haproxy-"));
  const port = await freePort();
  const example = await readFile(path.join(PROJECT_ROOT, "deploy", "haproxy", "haproxy.cfg"), "utf8");
  const servers = instancePorts.map((instancePort, n) => `    server i${n + 1} 127.0.0.1:${instancePort}`);
  const config = example
    .replace(/^\s*bind :80$/m, `    bind 127.0.0.1:${port}`)
    .replace(/^(\s*server i\d+ .*\n?)+/m, servers.join("\n") + "\n");
  if (!config.includes(`bind 127.0.0.1:${port}`) || config.match(/^\s*server /gm)?.length !== instancePorts.length) {
    throw new Error("deploy/haproxy/haproxy.cfg no longer has the `bind :80` and `server iN` lines this helper rewrites");
  }
  await writeFile(path.join(dir, "haproxy.cfg"), config);
  const stateChanges: string[] = [];
  const noteStateChange = (line: string) => {
    if (/Server agenticorp\/\S+ is (UP|DOWN)/.test(line)) stateChanges.push(line);
  };
  const haproxy: OwnedChild = startOwnedChild({
    name: "haproxy",
    command: "/usr/sbin/haproxy",
    args: ["-db", "-f", path.join(dir, "haproxy.cfg")],
    logFile: path.join(dir, "haproxy.log"),
    onStdoutLine: noteStateChange,
    onStderrLine: noteStateChange,
  });
  try {
    await waitForPort(port, 10_000, () => (haproxy.exitStatus() ? haproxy.tail() : undefined));
  } catch (error) {
    await haproxy.stop("SIGTERM", 5_000);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    serverStateChanges: () => [...stateChanges],
    async stop() {
      await haproxy.stop("SIGTERM", 5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
