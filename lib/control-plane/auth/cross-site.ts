// Refuses state-changing console requests that a browser sent on behalf of another site (CSRF).
//
// "This site" is judged by the browser first: Sec-Fetch-Site is computed by the browser against
// the page's real origin, so it is right behind any proxy and needs no configuration; only
// "same-origin" may change anything ("same-site" is refused too: a sibling subdomain is another
// party). Browsers without it (before 2023) send Origin, compared with the host the request was
// addressed to — the Host header or X-Forwarded-Host, either scheme: a page cannot set any of
// these on a cross-site request, and the shipped nginx and HAProxy configurations pass Host on.
// A request with neither header did not come from a browser's page (curl or a script holding a
// session cookie): it is allowed, as a cross-site attacker cannot make a browser omit both.
import { ForbiddenError } from "../../platform/errors";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const CROSS_SITE_REFUSED = "Cross-site requests cannot change the console: send it from the console's own pages.";

function firstValue(header: string | null): string | undefined {
  const value = header?.split(",")[0]?.trim();
  return value ? value : undefined;
}

/** The origins the request was addressed to, as the browser would write them in Origin. */
function addressedOrigins(headers: Headers): Set<string> {
  const origins = new Set<string>();
  for (const host of [firstValue(headers.get("host")), firstValue(headers.get("x-forwarded-host"))]) {
    if (!host) continue;
    for (const scheme of ["http", "https"]) {
      try {
        origins.add(new URL(`${scheme}://${host}`).origin);
      } catch {
        // not a host name: matches nothing
      }
    }
  }
  return origins;
}

function originOf(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === "null" ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** True when a browser sent this state-changing request from another site's page. */
export function isCrossSiteWrite(method: string, headers: Headers): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return false;
  const fetchSite = headers.get("sec-fetch-site");
  if (fetchSite !== null) return fetchSite.trim().toLowerCase() !== "same-origin";
  const origin = headers.get("origin");
  if (origin === null) return false;
  const sent = originOf(origin.trim());
  return sent === undefined || !addressedOrigins(headers).has(sent);
}

export const crossSiteRefusal = () => new ForbiddenError(CROSS_SITE_REFUSED, { code: "cross_site_request" });

/** Throws 403 (code cross_site_request) for a cross-site write; checked before anything else. */
export function refuseCrossSiteWrite(request: Request): void {
  if (isCrossSiteWrite(request.method, request.headers)) throw crossSiteRefusal();
}
