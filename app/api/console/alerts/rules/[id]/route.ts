export { updateAlertRuleHandler as PATCH } from "@/lib/console/alerts";
