// The local cluster runner (tools/cluster-runner, `npm run cluster`): instances behind nginx with
// Prometheus scraping them; scaling out and in — programmatically and through the control
// endpoint the scaling `local` target uses — under steady load without a failed request; and a
// stop that leaves none of its processes behind. Then the CLI itself, driven through stdin and
// stopped with SIGINT as Ctrl-C would.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, expect, inject, it } from "vitest";
import { localClusterClient } from "../../tools/cluster-runner/control";
import { freePort } from "../../tools/cluster-runner/net";
import { PROJECT_ROOT } from "../../lib/platform/version";
import { TEST_SECRET, TestCluster, eventually, httpGet, sleep } from "../helpers/cluster-fixture";
import { LoadGenerator, summarize } from "../helpers/load";

const databaseUrl = inject("databaseUrl");
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function prometheusTargets(url: string): Promise<Array<{ health: string; labels: Record<string, string> }>> {
  const { body } = await httpGet(`${url}/api/v1/targets?state=active`);
  return (JSON.parse(body) as { data: { activeTargets: Array<{ health: string; labels: Record<string, string> }> } }).data
    .activeTargets;
}

it("scales out and in under load with no failed request, Prometheus following, and stops every process it started", async () => {
  const fixture = await TestCluster.start({ databaseUrl, instances: 2, prometheus: true, control: true });
  cleanups.push(() => fixture.close());
  const { cluster } = fixture;
  await fixture.addWorkload();

  const started = cluster.instances();
  expect(started.map((i) => i.state)).toEqual(["ready", "ready"]);
  expect(new Set(started.map((i) => i.port)).size).toBe(2);
  expect((await httpGet(`${cluster.url}/health/ready`)).status).toBe(200);
  await eventually(
    async () => {
      const targets = await prometheusTargets(cluster.prometheusUrl!);
      return (
        targets.length === 2 &&
        targets.every((t) => t.health === "up") &&
        targets
          .map((t) => t.labels.instance_id)
          .sort()
          .join() === started.map((i) => i.id).join()
      );
    },
    30_000,
    500,
  );

  const load = new LoadGenerator({ baseUrl: cluster.url, keys: fixture.keys, model: fixture.model, ratePerSecond: 15 }).start();
  await sleep(1_000);

  // Out, the way the scaling `local` target does it: through the control endpoint.
  const control = localClusterClient(cluster.controlUrl!);
  const scaled = await control.scaleTo(3);
  expect(scaled.instances.filter((i) => i.state === "ready")).toHaveLength(3);
  const added = scaled.instances.at(-1)!;
  await sleep(2_000);
  // In: the newest, out of nginx first, then drained.
  const removed = await cluster.removeInstance();
  expect(removed.id).toBe(added.id);
  expect(removed.exit).toEqual({ code: 0, signal: null });
  // In again, programmatically, to one.
  await cluster.scaleTo(1);
  expect((await control.status()).instances.map((i) => i.id)).toEqual([started[0]!.id]);
  await sleep(1_000);
  const report = await load.stop();
  console.log(summarize(report));

  expect(report.failures).toEqual([]);
  expect(report.truncated).toBe(0);
  expect(report.byInstance[added.id] ?? 0, "the added instance took traffic").toBeGreaterThan(0);
  expect(report.records.filter((r) => r.startedAt > Date.now() - 900).every((r) => r.instance === started[0]!.id)).toBe(true);
  await eventually(
    async () => (await prometheusTargets(cluster.prometheusUrl!)).map((t) => t.labels.instance_id).join() === started[0]!.id,
    30_000,
    500,
  );

  const processes = cluster.processes();
  expect(processes.map((p) => p.name).sort()).toEqual([started[0]!.id, "nginx", "prometheus"].sort());
  const runDir = cluster.runDir;
  await cluster.stop();
  expect(processes.filter((p) => alive(p.pid))).toEqual([]);
  expect(existsSync(runDir)).toBe(false);
  await expect(httpGet(`${cluster.url}/health/ready`)).rejects.toThrow();
});

it("runs from the command line: prints the balancer, obeys status and add on stdin, and stops everything on SIGINT", async () => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      path.join(PROJECT_ROOT, "scripts/cluster.ts"),
      "--instances",
      "1",
      "--port",
      String(port),
      "--data-plane-only",
    ],
    {
      cwd: PROJECT_ROOT,
      env: {
        NODE_ENV: "production",
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: databaseUrl,
        SECRET: TEST_SECRET,
        DRAIN_TIMEOUT_MS: "6000",
      },
      stdio: ["pipe", "pipe", "pipe"],
    },
  );
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = (pattern: RegExp, ms: number) =>
    eventually(async () => pattern.test(output) || child.exitCode !== null, ms, 100).then(() => expect(output).toMatch(pattern));

  await waitFor(/\[cluster\] commands:/, 60_000);
  expect(output).toContain(`balancer      http://127.0.0.1:${port}`);
  const pids = [...output.matchAll(/instance\s+local-\d+\s+\S+\s+pid (\d+)/g)].map((m) => Number(m[1]));
  expect(pids).toHaveLength(1);
  expect((await httpGet(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);

  child.stdin.write("status\n");
  await waitFor(/local-1\s+pid \d+\s+http:\/\/127\.0\.0\.1:\d+\s+ready/, 10_000);
  child.stdin.write("add\n");
  await waitFor(/\[cluster\] added local-2/, 60_000);
  child.stdin.write("status\n");
  await waitFor(/local-2\s+pid \d+\s+http:\/\/127\.0\.0\.1:\d+\s+ready/, 10_000);
  pids.push(Number(/local-2\s+pid (\d+)/.exec(output)![1]));

  child.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(output).toContain("[cluster] stopped");
  expect(pids.filter(alive)).toEqual([]);
  await expect(httpGet(`http://127.0.0.1:${port}/health/ready`)).rejects.toThrow();
});
