export { listAlertHistoryHandler as GET } from "@/lib/control-plane/console/alerts";
