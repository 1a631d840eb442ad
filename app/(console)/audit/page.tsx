import { AuditView } from "@/components/console/audit";

export default function AuditPage() {
  return <AuditView />;
}
