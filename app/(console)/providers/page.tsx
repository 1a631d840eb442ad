import { ProvidersView } from "@/components/console/providers";

export default function ProvidersPage() {
  return <ProvidersView />;
}
