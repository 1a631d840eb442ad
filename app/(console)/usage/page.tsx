import { RequireScope } from "@/components/console/require-scope";
import { UsageView } from "@/components/console/usage";

export default function UsagePage() {
  return (
    <RequireScope scope="usage.read">
      <UsageView />
    </RequireScope>
  );
}
