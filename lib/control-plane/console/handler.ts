// Builds a console route handler from its permission, its input schemas and the work itself.
// Order: cross-site write (403) → session (401) → scope (403) → input (400) → work, so another
// site's page changes nothing and a caller without the right learns nothing about what the input
// should be. Every response is JSON (or a download the work builds itself) and never cached.
import "server-only";
import type { z } from "zod";
import type { Actor } from "../audit/audit";
import { refuseCrossSiteWrite } from "../auth/cross-site";
import type { Scope } from "../auth/permissions";
import { readSessionFromRequest, requireScope, type ConsoleSession } from "../auth/session";
import { getDatabase } from "../../platform/db/client";
import type { PrismaClient } from "../../platform/db/generated/client";
import { fromZodError, readJsonBody, toConsoleResponse } from "./errors";

export interface RouteContext {
  params: Promise<Record<string, string | string[] | undefined>>;
}

export type ConsoleRouteHandler = ((request: Request, context: RouteContext) => Promise<Response>) & {
  /** The permission the handler requires (read by the permission tests over every route file). */
  readonly scope: Scope;
  /** The schemas its input must satisfy (read by the tests that send every route its edge inputs). */
  readonly inputs: { query?: z.ZodType; body?: z.ZodType; params?: z.ZodType };
};

export interface HandlerInput<Q, B, P> {
  session: ConsoleSession;
  query: Q;
  body: B;
  params: P;
  prisma: PrismaClient;
  request: Request;
}

/** Options for one console endpoint. */
export interface HandlerOptions<
  QS extends z.ZodType | undefined,
  BS extends z.ZodType | undefined,
  PS extends z.ZodType | undefined,
> {
  /** The permission the caller's role must have. */
  scope: Scope;
  /** Validates the URL's query string (as an object of strings). */
  query?: QS;
  /** Validates a JSON body; requests with a body must send Content-Type: application/json. */
  body?: BS;
  /** Validates the dynamic route segments. */
  params?: PS;
  /** Status of a successful response (default 200). */
  status?: number;
}

/** Who the audit log names for a change made in this session. */
export const actorOf = (session: ConsoleSession): Actor => ({ id: session.userId, email: session.email });

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export function consoleHandler<
  QS extends z.ZodType | undefined = undefined,
  BS extends z.ZodType | undefined = undefined,
  PS extends z.ZodType | undefined = undefined,
>(
  options: HandlerOptions<QS, BS, PS>,
  work: (input: HandlerInput<Out<QS>, Out<BS>, Out<PS>>) => Promise<unknown>,
): ConsoleRouteHandler {
  const handler = async (request: Request, context: RouteContext) => {
    try {
      refuseCrossSiteWrite(request);
      const session = await readSessionFromRequest(request);
      requireScope(session, options.scope);
      const query = options.query
        ? parse(options.query, Object.fromEntries(new URL(request.url).searchParams), "query")
        : undefined;
      const params = options.params ? parse(options.params, await context.params, "params") : undefined;
      const body = options.body ? parse(options.body, await readJsonBody(request), "body") : undefined;
      const result = await work({ session, query, body, params, prisma: getDatabase().prisma, request } as HandlerInput<
        Out<QS>,
        Out<BS>,
        Out<PS>
      >);
      // A download (the usage CSV) is its own response; everything else is JSON.
      if (result instanceof Response) return result;
      return Response.json(result, { status: options.status ?? 200, headers: { "cache-control": "no-store" } });
    } catch (error) {
      return toConsoleResponse(error);
    }
  };
  return Object.assign(handler, {
    scope: options.scope,
    inputs: { query: options.query, body: options.body, params: options.params },
  });
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: "body" | "query" | "params"): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fromZodError(result.error, where);
  return result.data;
}
