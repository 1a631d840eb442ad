export { acknowledgeAlertHandler as POST } from "@/lib/control-plane/console/alerts";
