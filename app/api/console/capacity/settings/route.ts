export { putCapacitySettings as PUT } from "@/lib/control-plane/capacity/console";
