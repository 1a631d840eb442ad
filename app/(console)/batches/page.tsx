import { BatchesView } from "@/components/console/batches";

export default function BatchesPage() {
  return <BatchesView />;
}
