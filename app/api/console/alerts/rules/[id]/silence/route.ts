export { silenceAlertHandler as PUT, unsilenceAlertHandler as DELETE } from "@/lib/control-plane/console/alerts";
