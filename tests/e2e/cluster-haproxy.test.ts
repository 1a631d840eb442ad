// The shipped HAProxy example (deploy/haproxy/haproxy.cfg) in front of three real instances, only
// its bind address and server addresses rewritten: an instance that gets SIGTERM with no one
// telling HAProxy is taken out by the /health/ready check, finishes what it has, sees its idle
// connections purged by HAProxy well inside its drain deadline, and exits 0 — while a steady
// load through HAProxy sees no failed request and no truncated stream.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { TestCluster, figure, sleep } from "../helpers/cluster-fixture";
import { startExampleHaproxy, type ExampleHaproxy } from "../helpers/haproxy";
import { LoadGenerator, summarize } from "../helpers/load";

let fixture: TestCluster;
let haproxy: ExampleHaproxy;
let url: string;

beforeAll(async () => {
  fixture = await TestCluster.start({ databaseUrl: inject("databaseUrl") });
  await fixture.addWorkload();
  haproxy = await startExampleHaproxy(fixture.running().map((i) => i.port!));
  url = haproxy.url;
  await sleep(3_000); // two health checks: every server up
});
afterAll(async () => {
  await haproxy?.stop();
  await fixture?.close();
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
