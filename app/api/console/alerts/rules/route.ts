export { listAlertRulesHandler as GET } from "@/lib/control-plane/console/alerts";
