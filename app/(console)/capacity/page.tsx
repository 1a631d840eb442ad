import { CapacityView } from "@/components/console/capacity";

export default function CapacityPage() {
  return <CapacityView />;
}
