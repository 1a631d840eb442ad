import { Suspense } from "react";
import { hasScope } from "@/lib/control-plane/auth/permissions";
import { getPageSession } from "@/lib/control-plane/auth/page-session";
import { loadOverview } from "@/lib/control-plane/console/overview";
import { getDatabase } from "@/lib/platform/db/client";
import { RANGES, type RangeKey } from "@/lib/control-plane/console/contracts";
import { DEFAULT_RANGE } from "@/lib/control-plane/console/ranges";
import { OverviewView } from "@/components/console/overview";

// The first range's data is rendered with the page (streamed in), so the first load needs no
// second round trip after the scripts start; the view then refreshes itself live.
async function OverviewWithData({ searchParams }: { searchParams: PageProps["searchParams"] }) {
  // The range lives in the URL (?range=6h), so a link or a reload shows the same view.
  const requested = (await searchParams).range;
  const range: RangeKey = RANGES.find((r) => r === requested) ?? DEFAULT_RANGE;
  const session = await getPageSession();
  if (!session || !hasScope(session.role, "metrics.read")) return <OverviewView range={range} />;
  // eslint-disable-next-line react-hooks/purity -- a server component renders once per request: when its data was read
  const at = Date.now();
  const data = await loadOverview(getDatabase().prisma, range).catch(() => undefined);
  return <OverviewView range={range} initial={data ? { data, at } : undefined} />;
}

interface PageProps {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export default function OverviewPage({ searchParams }: PageProps) {
  return (
    <Suspense fallback={<p className="state state-loading">Loading the overview…</p>}>
      <OverviewWithData searchParams={searchParams} />
    </Suspense>
  );
}
