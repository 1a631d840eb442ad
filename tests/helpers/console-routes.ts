// Every console route handler, found from the route files under app/api/console (so a new route
// cannot be left out of a table-driven test), and a way to call one as Next.js does.
import { readdir } from "node:fs/promises";
import path from "node:path";
import type { ConsoleRouteHandler } from "../../lib/control-plane/console/handler";
import { PROJECT_ROOT } from "../../lib/platform/version";

const CONSOLE_ROUTES_DIR = path.join(PROJECT_ROOT, "app", "api", "console");
const ROUTE_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

export interface ConsoleRoute {
  /** The route as its folder names it, e.g. /api/console/keys/[id]/revoke. */
  route: string;
  method: RouteMethod;
  /** "POST /api/console/keys/[id]/revoke" */
  key: string;
  handler: ConsoleRouteHandler;
}

async function routeFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory()
        ? routeFiles(path.join(dir, e.name))
        : Promise.resolve(e.name === "route.ts" ? [path.join(dir, e.name)] : []),
    ),
  );
  return nested.flat();
}

/** Next.js segment options a route file may export besides its methods. */
const SEGMENT_OPTIONS = new Set([
  "dynamic",
  "dynamicParams",
  "revalidate",
  "fetchCache",
  "runtime",
  "preferredRegion",
  "maxDuration",
]);

/** Every exported method of every route file; any other export (HEAD, OPTIONS …) fails loudly. */
export async function loadConsoleRoutes(): Promise<ConsoleRoute[]> {
  const routes: ConsoleRoute[] = [];
  for (const file of (await routeFiles(CONSOLE_ROUTES_DIR)).sort()) {
    const module = (await import(file)) as Record<string, ConsoleRouteHandler>;
    const route = "/api/console/" + path.relative(CONSOLE_ROUTES_DIR, path.dirname(file)).split(path.sep).join("/");
    for (const name of Object.keys(module)) {
      if (!(ROUTE_METHODS as readonly string[]).includes(name) && !SEGMENT_OPTIONS.has(name))
        throw new Error(`${file} exports ${name}, which is not an HTTP method this test knows`);
    }
    for (const method of ROUTE_METHODS)
      if (module[method]) routes.push({ route, method, key: `${method} ${route}`, handler: module[method] });
  }
  return routes;
}

export interface ConsoleCall {
  cookie?: string;
  method?: string;
  body?: unknown;
  params?: Record<string, string>;
  query?: string;
  contentType?: string;
  /** Extra request headers (Origin, Sec-Fetch-Site, Host …). */
  headers?: Record<string, string>;
}

/** Calls a handler with a WHATWG Request and route params, as Next.js does. */
export function callConsoleHandler(handler: ConsoleRouteHandler, options: ConsoleCall = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const request = new Request(`http://127.0.0.1/api/console/x${options.query ?? ""}`, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  return handler(request, { params: Promise.resolve(options.params ?? {}) });
}
