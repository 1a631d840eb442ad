// /requests/<x-request-id>: what happened to one request, opened from a client's report.
import { RequestDetailView } from "@/components/console/requests";

export default async function RequestPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <RequestDetailView requestId={decodeURIComponent(id)} />;
}
