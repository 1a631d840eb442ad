// Where to send someone after sign-in: only somewhere on this site (no open redirect). Decided by
// the URL parser, as the browser will read it, against the site's own origin — prefix checks miss
// what browsers forgive ("/\t/evil.example" loses its tab, "/\evil" its backslash, and both become
// "//evil…", another host). Safe to import from client components.

/** The path (with query and hash) on `siteOrigin` that `value` points to, or "/" when it leaves the site. */
export function safeCallbackPath(value: string | null | undefined, siteOrigin: string): string {
  if (!value) return "/";
  let site: URL;
  let target: URL;
  try {
    site = new URL(siteOrigin);
    target = new URL(value, site);
  } catch {
    return "/";
  }
  if (target.origin !== site.origin) return "/";
  // "//evil.example" as a path would be read as another host once it is a Location again.
  return `/${target.pathname.replace(/^\/+/, "")}${target.search}${target.hash}`;
}

/** This site's origin as the request addressed it (behind a proxy: X-Forwarded-Host and -Proto). */
export function addressedOrigin(headers: Pick<Headers, "get">): string {
  const first = (name: string) => headers.get(name)?.split(",")[0]?.trim() || undefined;
  return `${first("x-forwarded-proto") === "https" ? "https" : "http"}://${first("x-forwarded-host") ?? first("host") ?? "localhost"}`;
}
