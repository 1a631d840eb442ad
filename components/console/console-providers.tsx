"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { ConsoleApiError } from "@/components/console/hooks/console";
import { SessionProvider, type SessionView } from "./session-context";

export function ConsoleProviders({ session, children }: { session: SessionView; children: ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            // A refusal will not change on retry; a network blip may.
            retry: (failures, error) => !(error instanceof ConsoleApiError && error.status < 500) && failures < 2,
            refetchOnWindowFocus: true,
          },
        },
      }),
  );
  return (
    <QueryClientProvider client={client}>
      <SessionProvider session={session}>{children}</SessionProvider>
    </QueryClientProvider>
  );
}
