import { KeysView } from "@/components/console/keys";

export default function KeysPage() {
  return <KeysView />;
}
