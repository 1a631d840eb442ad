import { AlertsView } from "@/components/console/alerts";

export default function AlertsPage() {
  return <AlertsView />;
}
