// The real bundled server: its heartbeat carries the router's per-deployment report (a failing
// upstream's failures, the requests its open circuit refused, its last failure) and flushes the
// keys' last-used times, both into PostgreSQL where the console reads them. No request waits on
// either: they ride the heartbeat.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayFixture, eventually, unique } from "../helpers/gateway-fixture";
import { startOpenAIStandIn, type OpenAIStandIn } from "../helpers/openai-stand-in";
import type { ServerProcess } from "../helpers/server-process";

const fixture = new GatewayFixture();
let upstream: OpenAIStandIn;
let server: ServerProcess;
let key: string;
let keyId: string;
const providerName = unique("broken");
const model = unique("model");

beforeAll(async () => {
  upstream = await startOpenAIStandIn({ apiKey: "key-good" });
  upstream.setBehaviour({ failAll: 500 });
  await fixture.addProvider({
    kind: "openai_compatible",
    name: providerName,
    baseUrl: upstream.url,
    apiKey: "key-good",
    settings: { headers: {}, timeouts: { connectMs: 1_000, firstByteMs: 5_000, totalMs: 10_000 } },
    deployments: [{ modelName: model, upstreamModel: "gpt-4o" }],
  });
  const created = await fixture.addKey();
  key = created.key;
  keyId = created.record.id;
  server = await fixture.startServer({
    env: { HEARTBEAT_MS: "200", ROUTER_MAX_ATTEMPTS: "1", CIRCUIT_FAILURE_THRESHOLD: "2", CIRCUIT_COOLDOWN_MS: "60000" },
  });
}, 90_000);

afterAll(async () => {
  await fixture.close();
  await upstream?.close();
});

const chat = () =>
  fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });

describe("the heartbeat's deployment report and key usage", () => {
  it("reports failures, circuit refusals and the last failure of a failing deployment, and when the key was last used", async () => {
    const before = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await chat()).status);
    // Two failures open the circuit; the five requests after it are refused without an upstream call.
    expect(statuses).toEqual([502, 502, 503, 503, 503, 503, 503]);
    expect(upstream.requests.filter((r) => r.path.endsWith("/chat/completions"))).toHaveLength(2);

    const deployment = await fixture.prisma.deployment.findFirstOrThrow({ where: { modelName: model } });
    let report: Record<string, unknown> | undefined;
    await eventually(async () => {
      const row = await fixture.prisma.instance.findUnique({ where: { id: server.instanceId } });
      report = (row?.vitals as { deployments?: Record<string, Record<string, unknown>> } | undefined)?.deployments?.[
        deployment.id
      ];
      return report?.refused_by_circuit === 5;
    }, 10_000);
    expect(report).toMatchObject({
      circuit: "open",
      attempts: 2,
      failures: 2,
      refused_by_circuit: 5,
      last_failure: { reason: "server_error", status: 500 },
    });
    expect((report!.last_failure as { at: number }).at).toBeGreaterThanOrEqual(before);

    await eventually(async () => (await fixture.prisma.apiKeyUsage.findUnique({ where: { keyId } })) !== null, 10_000);
    const usage = await fixture.prisma.apiKeyUsage.findUniqueOrThrow({ where: { keyId } });
    expect(usage.lastUsedAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(usage.lastUsedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
  }, 60_000);
});
