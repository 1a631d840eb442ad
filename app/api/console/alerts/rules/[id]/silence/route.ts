export { silenceAlertHandler as PUT, unsilenceAlertHandler as DELETE } from "@/lib/console/alerts";
