// After sign-in the browser goes only somewhere on this site: the form's and the login page's
// sanitizer, and next-auth's redirect callback, against what browsers make of hostile addresses.
import { beforeAll, describe, expect, it } from "vitest";
import { addressedOrigin, safeCallbackPath } from "../../lib/control-plane/auth/callback-url";
import { buildAuthOptions } from "../../lib/control-plane/auth/options";
import { parseConfig, setConfig } from "../../lib/platform/config";

const SITE = "http://console.example.com:3000";

/** Where a browser on SITE actually goes for a Location / location.assign value. */
const landsOn = (value: string) => new URL(value, SITE);

// Each is what arrives after the query string is decoded once, as the page and the form see it.
const LEAVING = [
  "/\t/evil.example", // %2F%09%2Fevil.example: the browser drops the tab
  "/\n/evil.example",
  "/\r\n/evil.example/x",
  "\t//evil.example",
  " //evil.example",
  "//evil.example",
  "///evil.example",
  "/\\evil.example", // /\evil: a backslash is a slash in http(s) URLs
  "\\\\evil.example",
  "\\/evil.example",
  "https://evil.example",
  "https://evil.example/",
  "HTTPS://EVIL.EXAMPLE",
  "https:/\\evil.example",
  "http://console.example.com:3000@evil.example/",
  "http://console.example.com:3001/",
  "https://console.example.com:3000/",
  "javascript:alert(document.domain)",
  "data:text/html,<script>alert(1)</script>",
];

describe("safeCallbackPath", () => {
  it.each(LEAVING)("sends %j home instead of off the site", (value) => {
    const path = safeCallbackPath(value, SITE);
    expect(path).toBe("/");
    expect(landsOn(path).origin).toBe(SITE);
  });

  it.each([
    ["/keys", "/keys"],
    ["/audit?action=key.revoke#top", "/audit?action=key.revoke#top"],
    ["keys", "/keys"],
    ["http://console.example.com:3000/users", "/users"],
    // Still encoded (sent double-encoded): a path segment on this site, not a host.
    ["%2F%2Fevil.example", "/%2F%2Fevil.example"],
    ["/%09/evil.example", "/%09/evil.example"],
    ["/%5Cevil.example", "/%5Cevil.example"],
    // Same origin, but "//evil" as a path would be another host once it is a Location again.
    ["http://console.example.com:3000//evil.example/x", "/evil.example/x"],
    ["/./\t/evil.example", "/evil.example"],
    // Scheme-relative on an http page: a path here, as the browser reads it.
    ["http:evil.example", "/evil.example"],
  ])("keeps %j on the site as %j", (value, expected) => {
    const path = safeCallbackPath(value, SITE);
    expect(path).toBe(expected);
    expect(landsOn(path).origin).toBe(SITE);
  });

  it.each([undefined, null, ""])("sends %j home", (value) => {
    expect(safeCallbackPath(value, SITE)).toBe("/");
  });
});

describe("addressedOrigin", () => {
  it("is the browser's origin, through a proxy's forwarded headers", () => {
    expect(addressedOrigin(new Headers({ host: "127.0.0.1:3000" }))).toBe("http://127.0.0.1:3000");
    expect(
      addressedOrigin(
        new Headers({ host: "10.0.1.11:3000", "x-forwarded-host": "console.example.com", "x-forwarded-proto": "https" }),
      ),
    ).toBe("https://console.example.com");
  });
});

describe("next-auth's redirect callback", () => {
  beforeAll(() => {
    setConfig(parseConfig({ SECRET: "test-secret-0123456789abcdef0123456789abcdef", NODE_ENV: "test" }));
  });
  const redirect = (url: string) =>
    buildAuthOptions({ secure: false, clientAddress: "127.0.0.1" }).callbacks!.redirect!({ url, baseUrl: SITE });

  it.each(LEAVING)("sends %j to the site's root", async (url) => {
    expect(await redirect(url)).toBe(`${SITE}/`);
  });

  it("keeps paths and this site's own URLs", async () => {
    expect(await redirect("/keys?x=1")).toBe(`${SITE}/keys?x=1`);
    expect(await redirect(`${SITE}/login?error=CredentialsSignin`)).toBe(`${SITE}/login?error=CredentialsSignin`);
  });
});
