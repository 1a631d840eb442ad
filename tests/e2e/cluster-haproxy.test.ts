// The shipped HAProxy example (deploy/haproxy/haproxy.cfg) in front of three real instances, only
// its bind address and server addresses rewritten: an instance that gets SIGTERM with no one
// telling HAProxy is taken out by the /health/ready check, finishes what it has, sees its idle
// connections purged by HAProxy well inside its drain deadline, and exits 0 — while a steady
// load through HAProxy sees no failed request and no truncated stream.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startOwnedChild, type OwnedChild } from "../../lib/cluster-runner/child";
import { freePort, waitForPort } from "../../lib/cluster-runner/net";
import { PROJECT_ROOT } from "../../lib/version";
import { TestCluster, figure, sleep } from "../helpers/cluster-fixture";
import { LoadGenerator, summarize } from "../helpers/load";

let fixture: TestCluster;
let haproxy: OwnedChild;
let dir: string;
let url: string;

beforeAll(async () => {
  fixture = await TestCluster.start({ databaseUrl: inject("databaseUrl") });
  await fixture.addWorkload();
  dir = await mkdtemp(path.join(os.tmpdir(), "agenticorp-haproxy-"));
  const port = await freePort();
  const example = await readFile(path.join(PROJECT_ROOT, "deploy", "haproxy", "haproxy.cfg"), "utf8");
  const servers = fixture.running().map((i, n) => `    server i${n + 1} 127.0.0.1:${i.port}`);
  const config = example
    .replace(/^\s*bind :80$/m, `    bind 127.0.0.1:${port}`)
    .replace(/^(\s*server i\d+ .*\n?)+/m, servers.join("\n") + "\n");
  expect(config).toContain(`bind 127.0.0.1:${port}`);
  expect(config.match(/^\s*server /gm)).toHaveLength(3);
  await writeFile(path.join(dir, "haproxy.cfg"), config);
  haproxy = startOwnedChild({ name: "haproxy", command: "/usr/sbin/haproxy", args: ["-db", "-f", path.join(dir, "haproxy.cfg")], logFile: path.join(dir, "haproxy.log") });
  await waitForPort(port, 10_000, () => (haproxy.exitStatus() ? haproxy.tail() : undefined));
  url = `http://127.0.0.1:${port}`;
  await sleep(3_000); // two health checks: every server up
});
afterAll(async () => {
  await haproxy?.stop("SIGTERM", 5_000);
  await fixture?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("drains an instance that receives SIGTERM behind HAProxy with 0 failed requests and 0 truncated streams", async () => {
  const load = new LoadGenerator({ baseUrl: url, keys: fixture.keys, model: fixture.model, ratePerSecond: 20 }).start();
  await sleep(3_000);
  const victim = fixture.running()[0]!;
  const signalledAt = Date.now();
  const exit = await fixture.cluster.instance(victim.id).drain(30_000);
  const drainMs = Date.now() - signalledAt;
  await sleep(2_000);
  const report = await load.stop();
  console.log(summarize(report));
  const drained = fixture.linesOf("drained").find((l) => l.instance === victim.id)!.line;
  figure("haproxy drain", "SIGTERM to exit", drainMs, "ms");
  figure("haproxy drain", "failed requests", report.failed);
  figure("haproxy drain", "truncated streams", report.truncated);

  expect(report.failures).toEqual([]);
  expect(report.truncated).toBe(0);
  expect(exit).toEqual({ code: 0, signal: null });
  // Nothing was cut at the deadline: HAProxy closed its idle connections to the instance first.
  expect(drained).toMatchObject({ timedOut: false, cutConnections: 0 });
});
