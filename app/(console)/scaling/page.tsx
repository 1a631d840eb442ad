import { ScalingView } from "@/components/console/scaling";

export default function ScalingPage() {
  return <ScalingView />;
}
