// The client address sign-in throttling counts by: the socket's peer unless TRUSTED_PROXIES says
// whose X-Forwarded-For to believe, handed to Next.js in a header a client cannot forge. A real
// Fastify app with the real hand-off on loopback; the Next.js handler is a stand-in that records
// what it was given.
import type { IncomingMessage, ServerResponse } from "node:http";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CLIENT_ADDRESS_HEADER, throttleAddress } from "../../lib/control-plane/auth/client-address";
import { parseConfig } from "../../lib/platform/config";
import { buildApp } from "../../lib/platform/http/app";
import { nextHandoff } from "../../lib/platform/http/next-handoff";
import { InstanceState } from "../../lib/platform/process/lifecycle";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function addressSeenByNext(
  trustProxy: string[] | number | false,
  headers: Record<string, string>,
): Promise<string | undefined> {
  const app = buildApp({ state: new InstanceState(), instanceId: "t", logger: pino({ level: "silent" }), trustProxy });
  let seen: string | undefined;
  const nextStandIn = async (req: IncomingMessage, res: ServerResponse) => {
    seen = req.headers[CLIENT_ADDRESS_HEADER] as string | undefined;
    res.end("ok");
  };
  await app.register(nextHandoff, {
    handle: nextStandIn,
    clientAddress: { header: CLIENT_ADDRESS_HEADER, value: throttleAddress },
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  close = () => app.close();
  const response = await fetch(`${url}/api/auth/callback/credentials`, { method: "POST", headers });
  await response.text();
  return seen;
}

describe("the client address handed to Next.js", () => {
  it("is the socket's peer by default: X-Forwarded-For and a forged header of ours are ignored", async () => {
    expect(await addressSeenByNext(false, { "x-forwarded-for": "203.0.113.9", [CLIENT_ADDRESS_HEADER]: "198.51.100.1" })).toBe(
      "127.0.0.1",
    );
  });

  it("follows X-Forwarded-For only from a trusted proxy", async () => {
    expect(await addressSeenByNext(["loopback"], { "x-forwarded-for": "203.0.113.9" })).toBe("203.0.113.9");
    expect(await addressSeenByNext(["10.0.0.0/8"], { "x-forwarded-for": "203.0.113.9" })).toBe("127.0.0.1");
  });
});

describe("TRUSTED_PROXIES", () => {
  it("parses to Fastify's trustProxy, and refuses what is not an address, range, name or count", () => {
    expect(parseConfig({ NODE_ENV: "test" }).TRUSTED_PROXIES).toBe(false);
    expect(parseConfig({ NODE_ENV: "test", TRUSTED_PROXIES: "loopback, 10.0.0.0/8,::1" }).TRUSTED_PROXIES).toEqual([
      "loopback",
      "10.0.0.0/8",
      "::1",
    ]);
    expect(parseConfig({ NODE_ENV: "test", TRUSTED_PROXIES: "2" }).TRUSTED_PROXIES).toBe(2);
    expect(() => parseConfig({ NODE_ENV: "test", TRUSTED_PROXIES: "nginx.local" })).toThrow(
      /TRUSTED_PROXIES must be a hop count/,
    );
  });
});

describe("throttleAddress", () => {
  it("counts an IPv4-mapped address as IPv4 and an IPv6 address as its /64", () => {
    expect(throttleAddress("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(throttleAddress("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(throttleAddress("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(throttleAddress("192.0.2.7")).toBe("192.0.2.7");
  });
});
