import { InstancesView } from "@/components/console/instances";

export default function InstancesPage() {
  return <InstancesView />;
}
