import { RequestsView } from "@/components/console/requests";

export default function RequestsPage() {
  return <RequestsView />;
}
