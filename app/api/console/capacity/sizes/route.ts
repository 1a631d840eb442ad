export { putInstanceSizes as PUT } from "@/lib/control-plane/capacity/console";
