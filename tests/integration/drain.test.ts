// SIGTERM while a slow completion and a stream are in flight: both finish whole, new connections
// are refused, and the process exits 0.
import net from "node:net";
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayFixture, eventually, unique } from "../helpers/gateway-fixture";

const fixture = new GatewayFixture();
const model = unique("slow-sim");
let key: string;

beforeAll(async () => {
  await fixture.addProvider({
    kind: "simulator",
    name: unique("slow-simulator"),
    settings: {
      latencyMs: { median: 1_500, p99: 1_500 },
      tokensPerSecond: 20,
      errorRate: 0,
      answerWords: 30,
      timeouts: { connectMs: 1_000, firstByteMs: 10_000, totalMs: 20_000 },
    },
    deployments: [{ modelName: model, upstreamModel: "slow" }],
  });
  key = (await fixture.addKey()).key;
});
afterAll(async () => {
  await fixture.close();
  await balancerLike.close();
});

// Like a balancer's upstream pool: idle connections are closed by the client after a second,
// well inside the drain deadline (the server leaves idle sockets to the client; see drain.ts).
const balancerLike = new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 });

const connects = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

describe("graceful shutdown", () => {
  it("finishes in-flight requests and streams after SIGTERM, refuses new connections, exits 0", async () => {
    const server = await fixture.startServer({ env: { DRAIN_TIMEOUT_MS: "15000" } });
    const port = Number(new URL(server.url).port);
    const request = (stream: boolean) =>
      fetch(`${server.url}/v1/chat/completions`, {
        dispatcher: balancerLike,
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "take your time" }] }),
      });
    await eventually(
      async () =>
        (await fetch(`${server.url}/v1/models`, { dispatcher: balancerLike, headers: { authorization: `Bearer ${key}` } }))
          .status === 200,
    );

    const json = request(false);
    const stream = request(true);
    // Both in flight (with the /health request asking, three) before the signal: a fixed pause
    // could send it before a loaded machine had even accepted them.
    const inFlight = async () =>
      (
        (await (await fetch(`${server.url}/health`, { dispatcher: balancerLike })).json()) as {
          vitals: { in_flight_requests: number };
        }
      ).vitals.in_flight_requests;
    await eventually(async () => (await inFlight()) === 3);
    const signalledAt = Date.now();
    server.child.kill("SIGTERM");
    await server.waitForLog((line) => line.msg === "draining", 5_000);
    expect(await connects(port)).toBe(false);

    const jsonResponse = await json.catch((error) => {
      throw new Error(`${error}\n${server.output().slice(-4000)}`);
    });
    expect(jsonResponse.status).toBe(200);
    expect(jsonResponse.headers.get("connection")).toBe("close");
    const completion = (await jsonResponse.json()) as { choices: Array<{ message: { content: string } }> };
    expect(completion.choices[0]!.message.content.split(" ")).toHaveLength(30);

    const streamResponse = await stream;
    expect(streamResponse.status).toBe(200);
    const events = (await streamResponse.text()).split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    expect(events.filter((e) => e.includes('"content"')).length).toBeGreaterThanOrEqual(30);

    const exit = await server.exited;
    if (exit.code !== 0) console.error(server.output());
    expect(exit).toEqual({ code: 0, signal: null });
    // The stream took ~1.5 s upstream latency plus 30 tokens at 20/s after the signal was sent.
    expect(Date.now() - signalledAt).toBeGreaterThan(1_500);
    const drained = server.logs.find((line) => line.msg === "drained")!;
    expect(drained).toMatchObject({ timedOut: false, cutConnections: 0 });
  });
});
