// Which console writes count as sent by another site's page (CSRF), for browsers that send
// Sec-Fetch-Site, older ones that send only Origin, proxies in front, and non-browser clients.
import { describe, expect, it } from "vitest";
import { isCrossSiteWrite } from "../../lib/control-plane/auth/cross-site";

const headers = (values: Record<string, string>) => new Headers(values);
const HOST = { host: "console.example.com" };

describe("isCrossSiteWrite", () => {
  it.each(["POST", "PUT", "PATCH", "DELETE", "post"])("judges %s", (method) => {
    expect(isCrossSiteWrite(method, headers({ ...HOST, origin: "https://evil.example" }))).toBe(true);
    expect(isCrossSiteWrite(method, headers({ ...HOST, origin: "https://console.example.com" }))).toBe(false);
  });

  it.each(["GET", "HEAD", "OPTIONS"])("never refuses %s, which changes nothing", (method) => {
    expect(isCrossSiteWrite(method, headers({ ...HOST, origin: "https://evil.example", "sec-fetch-site": "cross-site" }))).toBe(
      false,
    );
  });

  it.each([
    ["same-origin", false],
    ["same-site", true],
    ["cross-site", true],
    ["none", true],
    ["Same-Origin", false],
  ])("believes the browser's Sec-Fetch-Site %s (cross-site: %s), whatever Origin says", (site, expected) => {
    expect(isCrossSiteWrite("POST", headers({ ...HOST, "sec-fetch-site": site }))).toBe(expected);
    expect(isCrossSiteWrite("POST", headers({ ...HOST, "sec-fetch-site": site, origin: "https://console.example.com" }))).toBe(
      expected,
    );
  });

  it("compares Origin with the host the request was addressed to, either scheme, default ports normalised", () => {
    expect(isCrossSiteWrite("POST", headers({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3000" }))).toBe(false);
    expect(isCrossSiteWrite("POST", headers({ host: "127.0.0.1:3000", origin: "http://127.0.0.1:3001" }))).toBe(true);
    expect(isCrossSiteWrite("POST", headers({ host: "console.example.com:443", origin: "https://console.example.com" }))).toBe(
      false,
    );
    expect(isCrossSiteWrite("POST", headers({ host: "console.example.com", origin: "https://api.console.example.com" }))).toBe(
      true,
    );
    expect(
      isCrossSiteWrite("POST", headers({ host: "console.example.com", origin: "https://console.example.com.evil.example" })),
    ).toBe(true);
  });

  it("accepts the browser's host passed on by a proxy as X-Forwarded-Host", () => {
    const proxied = { host: "10.0.1.11:3000", "x-forwarded-host": "console.example.com, 10.0.0.1" };
    expect(isCrossSiteWrite("POST", headers({ ...proxied, origin: "https://console.example.com" }))).toBe(false);
    expect(isCrossSiteWrite("POST", headers({ ...proxied, origin: "https://evil.example" }))).toBe(true);
  });

  it("refuses an opaque or malformed Origin", () => {
    expect(isCrossSiteWrite("POST", headers({ ...HOST, origin: "null" }))).toBe(true);
    expect(isCrossSiteWrite("POST", headers({ ...HOST, origin: "not a url" }))).toBe(true);
    expect(isCrossSiteWrite("POST", headers({ origin: "https://console.example.com" }))).toBe(true);
  });

  it("lets a non-browser client (neither header) through: no page can make a browser omit both", () => {
    expect(isCrossSiteWrite("POST", headers({ ...HOST, cookie: "next-auth.session-token=x" }))).toBe(false);
  });
});
