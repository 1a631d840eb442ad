export { listAlertRulesHandler as GET } from "@/lib/console/alerts";
