export { putSchedule as PUT } from "@/lib/capacity/console";
