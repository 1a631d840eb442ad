"use client";
// The signed-in user as the server read it, for the UI to hide what the role cannot do. The
// server guards decide; this only keeps controls a role cannot use off the screen.
import { createContext, useContext, type ReactNode } from "react";
import { hasScope, type Role, type Scope } from "@/lib/control-plane/auth/permissions";

export interface SessionView {
  email: string;
  name: string | null;
  role: Role;
}

const SessionContext = createContext<SessionView | null>(null);

export function SessionProvider({ session, children }: { session: SessionView; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSessionView(): SessionView {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSessionView outside the console layout");
  return session;
}

export function useCan(scope: Scope): boolean {
  return hasScope(useSessionView().role, scope);
}

/** Renders its children only for roles with the scope. */
export function Can({ scope, children }: { scope: Scope; children: ReactNode }) {
  return useCan(scope) ? <>{children}</> : null;
}
