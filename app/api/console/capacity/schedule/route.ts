export { putSchedule as PUT } from "@/lib/control-plane/capacity/console";
