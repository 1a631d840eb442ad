export { putCapacitySettings as PUT } from "@/lib/capacity/console";
