export { acknowledgeAlertHandler as POST } from "@/lib/console/alerts";
