export { updateAlertRuleHandler as PATCH } from "@/lib/control-plane/console/alerts";
