export { listAlertHistoryHandler as GET } from "@/lib/console/alerts";
