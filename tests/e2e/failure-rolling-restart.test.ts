// Rolling restart under steady load: three instances behind nginx are replaced one by one — a
// replacement starts and joins the balancer, then the old instance gets SIGTERM while nginx still
// routes to it ("signal-first", as when a balancer learns of the removal late). The drain must
// carry it: readiness fails, the listener closes (nginx retries refused connections elsewhere),
// in-flight requests and streams finish with `Connection: close`, idle upstream sockets are left
// for nginx to close. The client must see no failed request and no truncated stream.
import { expect, it } from "vitest";
import { type TestCluster, clusterWithWorkloadForThisFile, figure, sleep } from "../helpers/cluster-fixture";
import { LoadGenerator, summarize } from "../helpers/load";

const RATE = 20;
let fixture: TestCluster;
clusterWithWorkloadForThisFile((started) => (fixture = started));

it("replaces every instance in turn with 0 failed requests and 0 truncated streams", async () => {
  const originals = fixture.running();
  expect(originals).toHaveLength(3);
  const load = new LoadGenerator({ baseUrl: fixture.url, keys: fixture.keys, model: fixture.model, ratePerSecond: RATE }).start();
  await sleep(2_000);

  const steps: Array<{ old: string; replacement: string; signalledAt: number; exitedAt: number; exit: unknown }> = [];
  for (const old of originals) {
    const replacement = await fixture.cluster.addInstance();
    const signalledAt = Date.now();
    const removed = await fixture.cluster.removeInstance(old.id, { order: "signal-first" });
    steps.push({ old: old.id, replacement: replacement.id, signalledAt, exitedAt: Date.now(), exit: removed.exit });
  }
  await sleep(2_000);
  const report = await load.stop();
  console.log(summarize(report));

  // After the SIGTERM: answered by the draining instance (its in-flight work) vs. by the others.
  const servedWhileDraining = steps.map(
    (step) =>
      report.records.filter(
        (r) => r.instance === step.old && r.startedAt < step.signalledAt && (r.endedAt ?? 0) > step.signalledAt,
      ).length,
  );
  for (const [i, step] of steps.entries()) {
    figure("rolling restart", `${step.old} drain (SIGTERM to exit)`, step.exitedAt - step.signalledAt, "ms");
    figure("rolling restart", `${step.old} requests finished after its SIGTERM`, servedWhileDraining[i]!);
  }
  figure("rolling restart", "requests sent", report.sent);
  figure("rolling restart", "failed requests", report.failed);
  figure("rolling restart", "truncated streams", report.truncated);

  expect(report.failures, "requests that did not end well").toEqual([]);
  expect(report.failed).toBe(0);
  expect(report.truncated).toBe(0);
  expect(report.skipped).toBe(0);
  // The load really ran throughout (open loop at RATE), half of it streaming.
  expect(report.sent).toBeGreaterThanOrEqual(Math.floor((RATE * report.durationMs) / 1000) - 2);
  expect(report.records.filter((r) => r.stream).length).toBeGreaterThanOrEqual(report.sent / 2 - 1);

  for (const step of steps) {
    // Each old instance drained whole and exited cleanly; each replacement took traffic.
    expect(step.exit, `${step.old} exit`).toEqual({ code: 0, signal: null });
    const drained = fixture.linesOf("drained").find((l) => l.instance === step.old);
    expect(drained?.line, `${step.old} drain summary`).toMatchObject({ timedOut: false, cutConnections: 0 });
    expect(report.byInstance[step.replacement] ?? 0, `${step.replacement} served`).toBeGreaterThan(0);
  }
  expect(
    fixture
      .running()
      .map((i) => i.id)
      .sort(),
  ).toEqual(steps.map((s) => s.replacement).sort());
});
