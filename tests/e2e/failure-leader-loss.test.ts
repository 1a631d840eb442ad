// Leader loss: `kill -9` the instance holding the leader lease (found through the lease row's
// holder). Another instance leads once the lease expires (within the TTL plus one follower check
// of the kill); a write fenced with the dead leader's token is refused; no two leaderships — and
// so no two runs of the singleton jobs — overlap. Steady client load runs throughout: losing the
// leader costs clients nothing beyond what any crash costs (see failure-crash.test.ts).
import { expect, it } from "vitest";
import { type TestCluster, clusterWithWorkloadForThisFile, figure, sleep } from "../helpers/cluster-fixture";
import { leaderLoss } from "../helpers/cluster-leader";
import { LoadGenerator, crashAllowance, describeLosses, summarize, unexplainedLosses, type RequestRecord } from "../helpers/load";

let fixture: TestCluster;
clusterWithWorkloadForThisFile((started) => (fixture = started));

it("elects another leader after the leader is killed, refuses the old token, never two leaders at once", async () => {
  const load = new LoadGenerator({ baseUrl: fixture.url, keys: fixture.keys, model: fixture.model, ratePerSecond: 10 }).start();
  await sleep(1_000);
  let inFlight: RequestRecord[] = [];
  const { killed, killedAt, exitedAt } = await leaderLoss(fixture, {
    fencePool: fixture.direct.pool,
    label: "leader loss",
    onKill: () => (inFlight = load.inFlight()),
  });
  const report = await load.stop();
  console.log([summarize(report), ...describeLosses(report, killedAt)].join("\n"));
  figure("leader loss", "failed requests (client load during the takeover)", report.failed);
  figure("leader loss", "truncated streams", report.truncated);
  // Losing the leader costs clients what any crash costs: at most what was in flight on it.
  expect(unexplainedLosses(report, crashAllowance(report, inFlight, killedAt, exitedAt, killed))).toEqual([]);
  expect(report.ok).toBeGreaterThan(0);
});
