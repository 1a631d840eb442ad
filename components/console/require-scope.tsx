// Server-side page guard: the page's content only for roles with the scope (the API refuses
// the rest anyway; this keeps the page from rendering controls that cannot work).
import type { ReactNode } from "react";
import { redirect } from "next/navigation";
import { hasScope, type Scope } from "@/lib/control-plane/auth/permissions";
import { getPageSession } from "@/lib/control-plane/auth/page-session";

export async function RequireScope({ scope, children }: { scope: Scope; children: ReactNode }) {
  const session = await getPageSession();
  if (!session) redirect("/login");
  if (!hasScope(session.role, scope)) {
    return (
      <div className="page">
        <h1>Not available</h1>
        <p className="state state-error" role="alert">
          Your role ({session.role}) cannot open this page.
        </p>
      </div>
    );
  }
  return <>{children}</>;
}
