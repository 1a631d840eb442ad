// Every console page: signed-in users only (others go to the sign-in page), in the console frame.
import type { ReactNode } from "react";
import { redirect } from "next/navigation";
import { getPageSession } from "@/lib/control-plane/auth/page-session";
import { ConsoleProviders } from "@/components/console/console-providers";
import { ConsoleShell } from "@/components/console/shell";

export default async function ConsoleLayout({ children }: { children: ReactNode }) {
  const session = await getPageSession();
  if (!session) redirect("/login");
  return (
    <ConsoleProviders session={{ email: session.email, name: session.name, role: session.role }}>
      <ConsoleShell>{children}</ConsoleShell>
    </ConsoleProviders>
  );
}
