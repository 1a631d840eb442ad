import { Suspense } from "react";
import { hasScope } from "@/lib/auth/permissions";
import { getPageSession } from "@/lib/auth/page-session";
import { loadOverview } from "@/lib/console/overview";
import { getDatabase } from "@/lib/db/client";
import { DEFAULT_RANGE } from "@/lib/console/ranges";
import { OverviewView } from "@/components/console/overview";

// The first range's data is rendered with the page (streamed in), so the first load needs no
// second round trip after the scripts start; the view then refreshes itself live.
async function OverviewWithData() {
  const session = await getPageSession();
  if (!session || !hasScope(session.role, "metrics.read")) return <OverviewView />;
  const at = Date.now();
  const data = await loadOverview(getDatabase().prisma, DEFAULT_RANGE).catch(() => undefined);
  return <OverviewView initial={data ? { data, at } : undefined} />;
}

export default function OverviewPage() {
  return (
    <Suspense fallback={<p className="state state-loading">Loading the overview…</p>}>
      <OverviewWithData />
    </Suspense>
  );
}
