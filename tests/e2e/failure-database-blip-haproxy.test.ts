// A database blip behind the guide's balancer setup: three real instances behind the shipped
// HAProxy example, whose active check is GET /health/ready, under a steady load through HAProxy.
// The instances' database connections (pool and LISTEN) all run through a TCP proxy that the test
// cuts for 20 s. Keys and providers are loaded before the cut, so every instance can keep serving
// from memory; readiness must not follow the database, or HAProxy would take all three out at
// once and turn a database blip into a total outage. /health reports the database as degraded
// during the cut and healthy after it.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { TestCluster, eventually, figure, httpGet, sleep } from "../helpers/cluster-fixture";
import { startExampleHaproxy, type ExampleHaproxy } from "../helpers/haproxy";
import { LoadGenerator, summarize } from "../helpers/load";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

const RATE = 20;
const CUT_MS = 20_000;
/** How often the test samples each instance's /health/ready during the cut. */
const SAMPLE_EVERY_MS = 250;

let proxy: TcpProxy;
let fixture: TestCluster;
let haproxy: ExampleHaproxy;

beforeAll(async () => {
  const database = new URL(inject("databaseUrl"));
  proxy = await startTcpProxy({ host: database.hostname, port: Number(database.port || 5432) });
  database.hostname = "127.0.0.1";
  database.port = String(proxy.port);
  fixture = await TestCluster.start({ databaseUrl: database.toString() });
  await fixture.addWorkload();
  haproxy = await startExampleHaproxy(fixture.running().map((i) => i.port!));
});
afterAll(async () => {
  await haproxy?.stop();
  await proxy?.restore();
  await fixture?.close();
  await proxy?.close();
});

async function healthStatus(url: string): Promise<string> {
  return (JSON.parse((await httpGet(`${url}/health`)).body) as { status: string }).status;
}

it("keeps every instance in rotation through a 20 s database cut: 0 failed requests, readiness up, /health degraded then healthy", async () => {
  const instances = fixture.running().map((i) => ({ id: i.id, url: i.url! }));
  expect(instances).toHaveLength(3);
  // Every server in rotation before the load begins: each answers through HAProxy.
  await eventually(async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${haproxy.url}/health/live`, { headers: { connection: "close" } });
      await response.arrayBuffer();
      seen.add(response.headers.get("x-agenticorp-instance") ?? "");
    }
    return instances.every((i) => seen.has(i.id));
  }, 15_000);
  const stateChangesBefore = haproxy.serverStateChanges().length;

  const load = new LoadGenerator({ baseUrl: haproxy.url, keys: fixture.keys, model: fixture.model, ratePerSecond: RATE }).start();
  await sleep(3_000);

  await proxy.cut();
  const cutAt = Date.now();
  const degradedAfterMs = await eventually(
    async () => (await Promise.all(instances.map((i) => healthStatus(i.url)))).every((s) => s === "degraded"),
    5_000,
  );
  figure("database blip behind HAProxy", "time until every /health says degraded", degradedAfterMs, "ms");

  // Readiness sampled on every instance throughout the cut, as HAProxy's check sees it.
  const readinessSamples: Array<{ id: string; status: number }> = [];
  while (Date.now() - cutAt < CUT_MS) {
    const statuses = await Promise.all(
      instances.map(async (i) => ({ id: i.id, status: (await httpGet(`${i.url}/health/ready`)).status })),
    );
    readinessSamples.push(...statuses);
    await sleep(SAMPLE_EVERY_MS);
  }
  const dependencyDuringCut = await Promise.all(
    instances.map(
      async (i) =>
        JSON.parse((await httpGet(`${i.url}/health`)).body) as { status: string; dependencies: { database: { status: string } } },
    ),
  );

  await proxy.restore();
  const restoredAt = Date.now();
  const healthyAfterMs = await eventually(
    async () => (await Promise.all(instances.map((i) => healthStatus(i.url)))).every((s) => s === "healthy"),
    10_000,
  );
  figure("database blip behind HAProxy", "time until every /health says healthy again", healthyAfterMs, "ms");
  await sleep(2_000);
  const report = await load.stop();
  console.log(summarize(report));

  const duringCut = report.records.filter((r) => r.startedAt >= cutAt && r.startedAt < restoredAt);
  const servedBy = new Set(duringCut.map((r) => r.instance));
  figure("database blip behind HAProxy", "database cut for", restoredAt - cutAt, "ms");
  figure("database blip behind HAProxy", "completions during the cut", duringCut.length);
  figure("database blip behind HAProxy", "readiness samples during the cut (all 200)", readinessSamples.length);
  figure("database blip behind HAProxy", "failed requests", report.failed);
  figure("database blip behind HAProxy", "truncated streams", report.truncated);

  expect(report.failures, "requests that did not end well").toEqual([]);
  expect(report.failed).toBe(0);
  expect(report.truncated).toBe(0);
  expect(duringCut.length).toBeGreaterThanOrEqual(RATE * (CUT_MS / 1000) - 5);
  expect(duringCut.every((r) => r.outcome === "ok")).toBe(true);
  // Readiness never failed, HAProxy never took a server out, and all three kept serving.
  expect(readinessSamples.length).toBeGreaterThanOrEqual(3 * 10);
  expect(readinessSamples.filter((s) => s.status !== 200)).toEqual([]);
  expect(haproxy.serverStateChanges().slice(stateChangesBefore)).toEqual([]);
  expect([...servedBy].sort()).toEqual(instances.map((i) => i.id).sort());
  for (const health of dependencyDuringCut)
    expect(health).toMatchObject({ status: "degraded", dependencies: { database: { status: "down" } } });
});
