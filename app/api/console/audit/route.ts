export { listAuditEntries as GET } from "@/lib/console/audit";
