// The session for server components (layouts and pages), read from the request's cookies.
import "server-only";
import { cookies } from "next/headers";
import { readSession, type ConsoleSession } from "./session";

export async function getPageSession(): Promise<ConsoleSession | null> {
  const store = await cookies();
  return readSession((name) => store.get(name)?.value);
}
