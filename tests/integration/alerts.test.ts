// Alerts end to end: a real server process (the leader) evaluates the rules from its own snapshots
// in PostgreSQL while a client sends real traffic through it to an OpenAI stand-in upstream. The
// upstream is made to fail and then recover; the error-rate rule (for: 3 s over a 10 s window
// here, 1 min in production) must go pending → firing → resolved, in the history and at the
// webhook. Then the instance-count rule fires against the active policy's minimum and resolves
// when a second instance starts. A database of this file's own: the fleet is only these servers.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateAlerts } from "../../lib/control-plane/alerts/engine";
import { acquireLease, releaseLease } from "../../lib/platform/coordination/lease";
import {
  listAlertHistory,
  listAlertRules,
  listFiringAlerts,
  updateAlertRule,
  type AlertHistoryEntry,
} from "../../lib/control-plane/alerts/rules";
import { WebhookSender, type AlertNotification } from "../../lib/control-plane/alerts/webhook";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { PostgresMetricsSource } from "../../lib/platform/metrics-history/query/postgres";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { activatePolicy } from "../../lib/control-plane/scaling/store";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";
import pino from "pino";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const FOR_SECONDS = 3;
let scratch: ScratchDatabase;
let database: Database;
let upstream: OpenAIStandIn;
let webhook: Server;
let webhookUrl: string;
const notifications: AlertNotification[] = [];
const servers: ServerProcess[] = [];
let key: string;
let traffic: { stop(): Promise<{ sent: number; failed: number }> } | undefined;

const env = () => ({
  DATABASE_URL: scratch.url,
  CONSOLE_ENABLED: "false",
  SECRET,
  SNAPSHOT_INTERVAL_MS: "1000",
  ALERT_EVALUATION_MS: "500",
  ROUTER_MAX_ATTEMPTS: "1",
  CIRCUIT_FAILURE_THRESHOLD: "1000",
  DRAIN_TIMEOUT_MS: "2000",
  HEARTBEAT_MS: "1000",
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(250)) {
    const found = await check();
    if (found !== undefined) return found;
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** One request every ~20 ms until stopped (bounded by count too), counting 5xx answers. */
function startTraffic(server: ServerProcess) {
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const loop = (async () => {
    for (let i = 0; !stopped && i < 20_000; i++) {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "alert-model", temperature: 0.5, messages: [{ role: "user", content: `hi ${i}` }] }),
      });
      await response.arrayBuffer();
      sent++;
      if (response.status >= 500) failed++;
      await sleep(20);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { sent, failed };
    },
  };
}

const history = (ruleId: string) => listAlertHistory(database.prisma, { ruleId, limit: 50 }).then((events) => events.reverse());
const eventOf = (ruleId: string, state: string) => async () => (await history(ruleId)).find((e) => e.state === state);

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_alerts_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 3 });
  upstream = await startOpenAIStandIn({ apiKey: "upstream-key", name: "alerts" });
  await createProvider(
    database.prisma,
    {
      kind: "openai_compatible",
      name: "alerts-upstream",
      baseUrl: upstream.url,
      apiKey: "upstream-key",
      deployments: [{ modelName: "alert-model", upstreamModel: "gpt-4o-mini" }],
    },
    SECRET,
  );
  key = (await createApiKey(database.prisma, { name: "alerts" })).key;

  webhook = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      notifications.push(JSON.parse(body) as AlertNotification);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/alerts`;

  // Only the rule under test runs at first; short durations so the test takes seconds.
  for (const rule of await listAlertRules(database.prisma)) {
    await updateAlertRule(
      database.prisma,
      rule.id,
      rule.id === "error_rate_high" ? { forSeconds: FOR_SECONDS, windowSeconds: 10, webhookUrl } : { enabled: false },
      "alerts-test",
    );
  }
  servers.push(await startServer({ env: env() }));
}, 120_000);

afterAll(async () => {
  await traffic?.stop();
  await Promise.all(servers.map((s) => s.stop("SIGTERM")));
  await upstream?.close();
  await new Promise((resolve) => webhook?.close(resolve));
  await database?.close();
  await scratch?.drop();
}, 60_000);

describe("alert rules evaluated by the leader", () => {
  it("error rate: pending → firing → resolved, driven by injected upstream failures", async () => {
    traffic = startTraffic(servers[0]!);
    // Healthy traffic long enough for several evaluations: nothing happens.
    await sleep(6_000);
    expect(await history("error_rate_high")).toEqual([]);

    upstream.setBehaviour({ failAll: 500 });
    const pending = await waitFor("pending", eventOf("error_rate_high", "pending"), 30_000);
    const firing = await waitFor("firing", eventOf("error_rate_high", "firing"), 30_000);
    expect(firing.at.getTime() - pending.at.getTime()).toBeGreaterThanOrEqual(FOR_SECONDS * 1000);
    expect(firing.value).toBeGreaterThan(5);
    expect(firing.threshold).toBe(5);
    const rule = (await listAlertRules(database.prisma)).find((r) => r.id === "error_rate_high")!;
    expect(rule.state).toBe("firing");
    expect(rule.activeSubjects).toEqual([
      {
        subject: "fleet",
        status: "firing",
        since: pending.at,
        value: expect.any(Number),
        acknowledgedAt: null,
        acknowledgedBy: null,
      },
    ]);
    expect((await listFiringAlerts(database.prisma)).map((a) => a.ruleId)).toEqual(["error_rate_high"]);

    upstream.setBehaviour({});
    const resolved = await waitFor("resolved", eventOf("error_rate_high", "resolved"), 40_000);
    expect(resolved.value).toBeLessThanOrEqual(5);
    const { sent, failed } = await traffic.stop();
    traffic = undefined;
    expect(failed).toBeGreaterThan(20);
    expect(sent - failed).toBeGreaterThan(100);

    const states = (await history("error_rate_high")).map((e: AlertHistoryEntry) => e.state);
    expect(states).toEqual(["pending", "firing", "resolved"]);
    await waitFor("three webhook calls", async () => (notifications.length >= 3 ? true : undefined), 10_000);
    expect(notifications.map((n) => [n.rule.id, n.subject, n.state])).toEqual([
      ["error_rate_high", "fleet", "pending"],
      ["error_rate_high", "fleet", "firing"],
      ["error_rate_high", "fleet", "resolved"],
    ]);
    expect(notifications[1]).toMatchObject({
      source: "postgres",
      rule: { threshold: 5, forSeconds: FOR_SECONDS, severity: "critical" },
    });
    expect((await listAlertRules(database.prisma)).find((r) => r.id === "error_rate_high")!.state).toBe("inactive");
  }, 120_000);

  it("instance count: fires below the active policy's minimum and resolves when an instance joins", async () => {
    // Instances seed the scaling guide's presets and activate "balanced" (minimum 3); the
    // conservative preset's minimum is 2.
    await activatePolicy(database.prisma, "conservative", { id: null, email: "alerts-test@example.com" }, "alerts test");
    const { after } = await updateAlertRule(
      database.prisma,
      "instances_below_minimum",
      { enabled: true, webhookUrl },
      "alerts-test",
    );
    expect(after).toMatchObject({ threshold: 2, thresholdFromPolicy: true, forSeconds: 0 });

    const firing = await waitFor("firing", eventOf("instances_below_minimum", "firing"), 20_000);
    expect(firing).toMatchObject({ subject: "fleet", value: 1, threshold: 2 });
    servers.push(await startServer({ env: env() }));
    const resolved = await waitFor("resolved", eventOf("instances_below_minimum", "resolved"), 20_000);
    expect(resolved).toMatchObject({ value: 2, threshold: 2 });
    // No duration: straight to firing, no pending.
    expect((await history("instances_below_minimum")).map((e) => e.state)).toEqual(["firing", "resolved"]);
  }, 90_000);

  it("writes only under the current leadership", async () => {
    // No server is left to lead; this test takes the lease itself.
    await Promise.all(servers.splice(0).map((server) => server.stop("SIGTERM")));
    const lease = await acquireLease(database.pool, "leader", { holder: "alerts-test", ttlMs: 30_000 });
    expect(lease).not.toBeNull();
    const source = new PostgresMetricsSource({
      db: database.pool,
      retentionSeconds: { 10: 21_600, 60: 604_800, 600: 7_776_000 },
    });
    const silent = pino({ level: "silent" });
    const options = { pool: database.pool, source, webhooks: new WebhookSender(silent), logger: silent };
    const before = await listAlertHistory(database.prisma, { limit: 1_000 });

    // With every instance gone the instance-count rule breaches — unless the last leader already
    // saw the fleet drain and fired it, in which case a zero threshold makes it resolve. Either
    // way this evaluation has a change to write.
    const rule = (await listAlertRules(database.prisma)).find((r) => r.id === "instances_below_minimum")!;
    const expected = rule.state === "firing" ? { state: "resolved", threshold: 0 } : { state: "firing", threshold: 2 };
    if (rule.state === "firing") await updateAlertRule(database.prisma, rule.id, { threshold: 0 }, "alerts-test");

    expect(await evaluateAlerts(options, { ...lease!, token: lease!.token - 1n })).toBeNull();
    expect(await evaluateAlerts(options, { ...lease!, holder: "someone-else" })).toBeNull();
    expect(await listAlertHistory(database.prisma, { limit: 1_000 })).toEqual(before);

    const written = await evaluateAlerts(options, lease!);
    expect(written).toEqual([
      expect.objectContaining({ ruleId: "instances_below_minimum", subject: "fleet", value: 0, ...expected }),
    ]);
    expect((await listAlertHistory(database.prisma, { limit: 1 }))[0]).toMatchObject({
      ruleId: "instances_below_minimum",
      value: 0,
      state: expected.state,
    });
    await releaseLease(database.pool, lease!);
  });

  it("validates rule changes", async () => {
    await expect(updateAlertRule(database.prisma, "cpu_high", { threshold: null })).rejects.toThrow(
      /Only the instance-count rule/,
    );
    await expect(updateAlertRule(database.prisma, "no_such_rule", { enabled: true })).rejects.toThrow(/No alert rule/);
    await expect(updateAlertRule(database.prisma, "cpu_high", { forSeconds: -5 })).rejects.toThrow();
    const { before, after } = await updateAlertRule(database.prisma, "cpu_high", { threshold: 75 }, "admin@example.com");
    expect([before.threshold, after.threshold, after.updatedBy]).toEqual([80, 75, "admin@example.com"]);
    // The title follows the terms in force.
    expect([before.name, after.name]).toEqual(["CPU above 80% for 5 minutes", "CPU above 75% for 5 minutes"]);
    const edited = await updateAlertRule(database.prisma, "cpu_high", { threshold: 70, forSeconds: 120 });
    expect(edited.after).toMatchObject({
      name: "CPU above 70% for 2 minutes",
      description: expect.stringContaining("above 70% for 2 minutes"),
    });
  });

  it("takes percentages only in (0, 100]", async () => {
    for (const [rule, threshold] of [
      ["memory_high", 250],
      ["cpu_high", 0],
      ["error_rate_high", 100.5],
    ] as const) {
      await expect(updateAlertRule(database.prisma, rule, { threshold }), `${rule} ${threshold}`).rejects.toMatchObject({
        status: 400,
        param: "threshold",
        message: expect.stringMatching(/above 0 and at most 100/),
      });
    }
    expect((await updateAlertRule(database.prisma, "memory_high", { threshold: 100 })).after.threshold).toBe(100);
    // Not a percentage: the latency rule takes any non-negative number of seconds.
    expect((await updateAlertRule(database.prisma, "latency_p95_high", { threshold: 250 })).after.threshold).toBe(250);
  });

  it("sets the instance-count rule back to following the scaling policy", async () => {
    const own = await updateAlertRule(database.prisma, "instances_below_minimum", { threshold: 4 });
    expect(own.after).toMatchObject({ threshold: 4, thresholdFromPolicy: false, name: "Healthy instances below 4" });
    // The conservative preset (minimum 2) is active since the instance-count test.
    const following = await updateAlertRule(database.prisma, "instances_below_minimum", { threshold: null });
    expect(following.after).toMatchObject({
      threshold: 2,
      thresholdFromPolicy: true,
      name: "Healthy instances below the policy minimum (2)",
    });
  });

  it("raises 'below the policy minimum' as critical only where the scaling target can add instances", async () => {
    const severity = async (scalingTarget: "none" | "local" | "kubernetes") =>
      (await listAlertRules(database.prisma, { scalingTarget })).find((r) => r.id === "instances_below_minimum")!;
    expect(await severity("none")).toMatchObject({
      severity: "warning",
      severityReason: expect.stringContaining("SCALING_TARGET"),
    });
    expect(await severity("kubernetes")).toMatchObject({ severity: "critical", severityReason: null });
    expect(await severity("local")).toMatchObject({ severity: "critical", severityReason: null });
  });
});
