// The console's one error mapper: AppErrors keep their status and code, validation failures
// become 400 naming the field, a body that is not JSON 400/415, anything else a 500 that says
// nothing about internals (and is logged).
import { ZodError } from "zod";
import { AppError, BadRequestError, UnsupportedMediaTypeError } from "../../platform/errors";
import { Prisma } from "../../platform/db/generated/client";
import type { ConsoleErrorBody } from "./contracts";

function json(status: number, body: ConsoleErrorBody, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

export function fromZodError(error: ZodError, where: "body" | "query" | "params"): BadRequestError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join(".") : null;
  const message = issue ? `${field ? `${field}: ` : `${where}: `}${issue.message}` : `invalid ${where}`;
  return new BadRequestError(message, { param: field, code: "invalid_field" });
}

export function toConsoleResponse(error: unknown): Response {
  let appError: AppError | undefined;
  if (error instanceof AppError) appError = error;
  else if (error instanceof ZodError) appError = fromZodError(error, "body");
  else if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025") {
    appError = new AppError(404, "not_found_error", "Not found.", { code: "not_found" });
  } else if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
    appError = new AppError(409, "invalid_request_error", "Something with that name already exists.", { code: "conflict" });
  }
  if (appError) {
    if (appError.status >= 500)
      console.error(JSON.stringify({ level: 40, time: Date.now(), msg: "console request failed", err: appError.message }));
    return json(
      appError.status,
      { error: { message: appError.message, code: appError.code, param: appError.param } },
      appError.headers,
    );
  }
  console.error(
    JSON.stringify({
      level: 50,
      time: Date.now(),
      msg: "console handler error",
      err: (error as Error)?.message,
      stack: (error as Error)?.stack,
    }),
  );
  return json(500, {
    error: { message: "The console had an error while handling this request.", code: "internal_error", param: null },
  });
}

export async function readJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  // Only JSON bodies: a cross-site form cannot send one without a CORS preflight.
  if (!/^application\/json\b/i.test(type)) throw new UnsupportedMediaTypeError("Content-Type must be application/json.");
  const text = await request.text();
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError("Request body is not valid JSON.", { code: "invalid_json" });
  }
}
