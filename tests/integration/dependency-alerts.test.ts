// Each instance's own alerts on its database and configuration, which must work while PostgreSQL
// is away (the leader's engine cannot): the real database check and fleet configuration on a pool
// whose connection the test cuts, a clock of the test's, and a real webhook receiver on loopback.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DependencyAlerts } from "../../lib/control-plane/alerts/dependencies";
import { WebhookSender, type AlertNotification } from "../../lib/control-plane/alerts/webhook";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { FleetConfig } from "../../lib/data-plane/fleet-config/config-sync";
import { databaseCheck } from "../../lib/platform/health/checks";
import { eventually } from "../helpers/gateway-fixture";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy";

const SECRET = "dependency-alerts-secret-0123456789abcdef";
const MAX_STALENESS_MS = 300_000;
/** The database check caches its answer for a second (real time). */
const CHECK_CACHE_MS = 1_100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let scratch: ScratchDatabase;
let proxy: TcpProxy;
let database: Database;
let receiver: Server;
let webhookUrl: string;
const received: AlertNotification[] = [];

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_dependency_alerts_${randomBytes(4).toString("hex")}`, { migrate: true });
  const target = new URL(scratch.url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  target.hostname = "127.0.0.1";
  target.port = String(proxy.port);
  database = createDatabase({ url: target.toString(), poolMax: 2 });
  receiver = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push(JSON.parse(body) as AlertNotification);
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await database?.close();
  await proxy?.close();
  await scratch?.drop();
});

it("fires 'database unreachable' after a minute and 'configuration stale' at half the limit, without the database, then resolves both", async () => {
  let clock = 1_000_000;
  const fleet = new FleetConfig({
    pool: database.pool,
    listenUrl: "postgresql://postgres@127.0.0.1:1/none",
    secret: SECRET,
    refreshMs: 100,
    logger: pino({ level: "silent" }),
    now: () => clock,
  });
  const webhooks = new WebhookSender(pino({ level: "silent" }));
  const alerts = new DependencyAlerts({
    instanceId: "instance-a",
    database: databaseCheck(() => database.pool),
    configAgeMs: () => fleet.ageMs(),
    maxStalenessMs: MAX_STALENESS_MS,
    webhookUrl,
    webhooks,
    logger: pino({ level: "silent" }),
    now: () => clock,
  });
  try {
    await fleet.start();
    expect(await alerts.evaluate()).toEqual([]);

    await proxy.cut();
    await sleep(CHECK_CACHE_MS);
    expect(await alerts.evaluate()).toEqual([{ rule: "database-unreachable", state: "pending", value: 0 }]);
    clock += 59_000;
    await sleep(CHECK_CACHE_MS);
    expect(await alerts.evaluate()).toEqual([]);
    clock += 1_000;
    await sleep(CHECK_CACHE_MS);
    expect(await alerts.evaluate()).toEqual([{ rule: "database-unreachable", state: "firing", value: 0 }]);

    // Last confirmed at 1,000,000: past half the limit (150 s) at 1,150,001.
    clock = 1_000_000 + MAX_STALENESS_MS / 2;
    expect(await alerts.evaluate()).toEqual([]);
    clock += 1;
    expect(await alerts.evaluate()).toEqual([
      { rule: "configuration-stale", state: "firing", value: (MAX_STALENESS_MS / 2 + 1) / 1000 },
    ]);

    await proxy.restore();
    await eventually(async () => fleet.ageMs() === 0, 5_000);
    await sleep(CHECK_CACHE_MS);
    expect(await alerts.evaluate()).toEqual([
      { rule: "database-unreachable", state: "resolved", value: 1 },
      { rule: "configuration-stale", state: "resolved", value: 0 },
    ]);

    await webhooks.idle();
    expect(received.map((n) => [n.rule.id, n.state, n.subject, n.source])).toEqual([
      ["database-unreachable", "pending", "instance-a", "instance"],
      ["database-unreachable", "firing", "instance-a", "instance"],
      ["configuration-stale", "firing", "instance-a", "instance"],
      ["database-unreachable", "resolved", "instance-a", "instance"],
      ["configuration-stale", "resolved", "instance-a", "instance"],
    ]);
    expect(received[1]).toMatchObject({
      rule: {
        name: "Database unreachable",
        severity: "critical",
        metric: "database_up",
        comparison: "below",
        threshold: 1,
        forSeconds: 60,
      },
      value: 0,
      at: new Date(1_060_000).toISOString(),
    });
    expect(received[2]!.rule).toMatchObject({
      name: "Configuration stale",
      metric: "config_age_seconds",
      comparison: "above",
      threshold: 150,
      forSeconds: 0,
    });
  } finally {
    await fleet.stop();
  }
});
