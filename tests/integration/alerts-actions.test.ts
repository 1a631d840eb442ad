// Alerts operators can act on, end to end: a real server process (the leader) evaluates the
// in-product "provider credentials rejected" rule from its own snapshots in PostgreSQL while the
// test sends completions to a deployment whose upstream (the OpenAI stand-in) answers 401 to the
// gateway's key. The rule fires and its Slack-compatible notification reaches a real HTTP server on
// loopback; an operator acknowledges it and silences the rule; when the 401s stop it resolves — in
// the history, with the acknowledgement cleared — and the silenced rule sends nothing.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acknowledgeAlert, silenceAlert } from "../../lib/control-plane/alerts/actions";
import {
  getAlertRule,
  listAlertHistory,
  listAlertRules,
  listFiringAlerts,
  updateAlertRule,
} from "../../lib/control-plane/alerts/rules";
import { createDatabase, type Database } from "../../lib/platform/db/client";
import { createApiKey } from "../../lib/control-plane/keys/api-keys";
import { createProvider } from "../../lib/data-plane/providers/admin";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/postgres";
import { startServer, type ServerProcess } from "../helpers/server-process";

const SECRET = "test-secret-0123456789abcdef0123456789abcdef";
const RULE = "provider_credentials_rejected";
const context = { scalingTarget: "none" } as const;
let scratch: ScratchDatabase;
let database: Database;
let upstream: OpenAIStandIn;
let webhook: Server;
let webhookUrl: string;
const received: unknown[] = [];
let server: ServerProcess | undefined;
let key: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(250)) {
    const found = await check();
    if (found !== undefined) return found;
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

const eventOf = (state: string) => async () =>
  (await listAlertHistory(database.prisma, { ruleId: RULE })).find((e) => e.state === state);

beforeAll(async () => {
  scratch = await createScratchDatabase(`agenticorp_alert_actions_${randomBytes(4).toString("hex")}`, { migrate: true });
  database = createDatabase({ url: scratch.url, poolMax: 3 });
  upstream = await startOpenAIStandIn({ apiKey: "the-right-key", name: "alert-actions" });
  // The gateway holds a key the upstream does not accept: every attempt is refused with 401.
  await createProvider(
    database.prisma,
    {
      kind: "openai_compatible",
      name: "revoked-upstream",
      baseUrl: upstream.url,
      apiKey: "a-revoked-key",
      deployments: [{ modelName: "revoked-model", upstreamModel: "gpt-4o-mini" }],
    },
    SECRET,
  );
  key = (await createApiKey(database.prisma, { name: "alert-actions" })).key;
  webhook = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      received.push(JSON.parse(body));
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/slack`;
  // Only the rule under test; a 10 s window (5 minutes in production) so the test takes seconds.
  for (const rule of await listAlertRules(database.prisma)) {
    await updateAlertRule(
      database.prisma,
      rule.id,
      rule.id === RULE ? { windowSeconds: 10, webhookUrl, webhookFormat: "slack" } : { enabled: false },
      "alerts-test",
    );
  }
  server = await startServer({
    env: {
      DATABASE_URL: scratch.url,
      CONSOLE_ENABLED: "false",
      SECRET,
      SNAPSHOT_INTERVAL_MS: "1000",
      ALERT_EVALUATION_MS: "500",
      HEARTBEAT_MS: "1000",
      DRAIN_TIMEOUT_MS: "2000",
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop("SIGTERM");
  await upstream?.close();
  await new Promise((resolve) => webhook?.close(resolve));
  await database?.close();
  await scratch?.drop();
}, 60_000);

describe("provider credentials rejected, acknowledged and silenced", () => {
  it("is seeded as the Prometheus rule's twin: critical, above 0, over 5 minutes", async () => {
    const seeded = await database.prisma.alertRule.findUniqueOrThrow({ where: { id: RULE } });
    expect(seeded).toMatchObject({
      metric: "upstream_auth_rejected",
      comparison: "above",
      threshold: 0,
      forSeconds: 0,
      windowSeconds: 10,
      severity: "critical",
    });
    const rule = await getAlertRule(database.prisma, RULE, context);
    expect(rule.name).toBe("Provider credentials rejected");
  });

  it("fires when a deployment's upstream answers 401, and notifies in Slack's shape", async () => {
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server!.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "revoked-model", messages: [{ role: "user", content: `hi ${i}` }] }),
      });
      await response.arrayBuffer();
      // The client's key is fine: the gateway's own credentials failed, which is no client error.
      expect(response.status).toBeGreaterThanOrEqual(500);
    }
    const firing = await waitFor("firing", eventOf("firing"), 30_000);
    expect(firing).toMatchObject({ subject: "fleet", threshold: 0, ruleName: "Provider credentials rejected" });
    expect(firing.value).toBeGreaterThanOrEqual(3);
    await waitFor("the webhook", async () => (received.length > 0 ? true : undefined), 10_000);
    expect(received[0]).toEqual({
      text: expect.stringMatching(/^\[FIRING\] Provider credentials rejected \(critical\) — fleet: value \d+, threshold 0, at /),
    });
    expect((await listFiringAlerts(database.prisma, context)).map((a) => a.ruleId)).toEqual([RULE]);
  }, 60_000);

  it("is acknowledged and silenced by an operator; resolves silently, the acknowledgement ending with it", async () => {
    const { after: acknowledged } = await acknowledgeAlert(database.prisma, RULE, "operator@example.test", context);
    expect(acknowledged.activeSubjects).toEqual([
      expect.objectContaining({
        subject: "fleet",
        status: "firing",
        acknowledgedBy: "operator@example.test",
        acknowledgedAt: expect.any(Date),
      }),
    ]);
    await expect(acknowledgeAlert(database.prisma, RULE, "someone-else@example.test", context)).rejects.toThrow(
      /already acknowledged/,
    );

    const { after: silenced } = await silenceAlert(
      database.prisma,
      RULE,
      { durationSeconds: 3_600 },
      "operator@example.test",
      context,
    );
    expect(silenced.silence).toEqual({ until: expect.any(Date), by: "operator@example.test" });
    expect(silenced.silence!.until.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    // Listed apart: no longer among the overview's firing alerts.
    expect(await listFiringAlerts(database.prisma, context)).toEqual([]);

    const notified = received.length;
    const resolved = await waitFor("resolved", eventOf("resolved"), 40_000);
    expect(resolved.value).toBe(0);
    const state = await database.prisma.alertState.findUniqueOrThrow({
      where: { ruleId_subject: { ruleId: RULE, subject: "fleet" } },
    });
    expect(state).toMatchObject({ status: "inactive", acknowledgedAt: null, acknowledgedBy: null });
    // The server posts right after it commits; two seconds is ample for a POST on loopback.
    await sleep(2_000);
    expect(received.length).toBe(notified);
    await expect(acknowledgeAlert(database.prisma, RULE, "operator@example.test", context)).rejects.toThrow(
      /not pending or firing/,
    );
  }, 60_000);
});
