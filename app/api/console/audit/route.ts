export { listAuditEntries as GET } from "@/lib/control-plane/console/audit";
